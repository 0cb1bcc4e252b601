import { assertResultKey, type ResultStore } from "../../jobs/ports.ts";

/** R2 lists at most 1,000 keys per call and deletes at most 1,000 per call. */
const PAGE = 1_000;

/**
 * Finished batch audio in R2 (`<job id>/<n>.wav`). An R2 `put` resolves once the object is durable and whole, and
 * replaces an existing one atomically, which is what the ResultStore contract asks.
 */
export class R2ResultStore implements ResultStore {
  constructor(private readonly bucket: R2Bucket) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    assertResultKey(key);
    await this.bucket.put(key, body.slice());
  }

  async get(key: string): Promise<Uint8Array | null> {
    assertResultKey(key);
    const object = await this.bucket.get(key);
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  async delete(key: string): Promise<void> {
    assertResultKey(key);
    await this.bucket.delete(key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertResultKey(prefix);
    if (!prefix.endsWith("/")) throw new RangeError(`a prefix ends in "/": ${prefix}`);
    let deleted = 0;
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix, limit: PAGE, ...(cursor ? { cursor } : {}) });
      const keys = page.objects.map((o) => o.key);
      if (keys.length > 0) await this.bucket.delete(keys);
      deleted += keys.length;
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return deleted;
  }
}
