import type { Clock, ConsoleSessionStore } from "../ports.ts";

/** Signed-out sessions in memory: shared by every app built over the same stores object (tests, one process). */
export class InMemoryConsoleSessionStore implements ConsoleSessionStore {
  readonly #revoked = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    const now = this.clock.now();
    for (const [id, exp] of this.#revoked) if (exp <= now) this.#revoked.delete(id);
    this.#revoked.set(sessionId, Math.max(expiresAt, this.#revoked.get(sessionId) ?? 0));
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return this.#revoked.has(sessionId);
  }
}
