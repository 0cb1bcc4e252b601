/**
 * The pieces of a streamed request, asked of the nodes in order with a small window: the first alone (so it is not
 * slowed by being batched with the rest: the time to first audio is one piece's), then two at a time, so the next
 * piece is usually ready when the one before has been sent. A non-streamed request sends every piece at once
 * (pieces.ts): there only the last one matters.
 */
export class PieceFeed<T> {
  private readonly results: { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void }[];
  private started = 0;
  private settled = 0;

  constructor(
    count: number,
    private readonly start: (index: number) => Promise<T>,
    private readonly window = 2,
  ) {
    this.results = Array.from({ length: count }, () => {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Awaited in order by `get`; a piece nobody reads (the stream was cancelled) must not be an unhandled rejection.
      promise.catch(() => {});
      return { promise, resolve, reject };
    });
    this.launch(1);
  }

  get count(): number {
    return this.results.length;
  }

  /** piece `index`'s result, once it is there */
  get(index: number): Promise<T> {
    const slot = this.results[index];
    if (!slot) throw new RangeError(`no piece ${index}`);
    return slot.promise;
  }

  private launch(inFlight: number): void {
    while (this.started < this.results.length && this.started - this.settled < inFlight) {
      const index = this.started++;
      const slot = this.results[index];
      if (!slot) return;
      this.start(index).then(
        (v) => {
          this.settled++;
          slot.resolve(v);
          this.launch(this.window);
        },
        (e: unknown) => {
          this.settled++;
          slot.reject(e);
        },
      );
    }
  }
}
