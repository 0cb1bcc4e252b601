import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A Lua script run atomically by Redis (one script at a time per server, so its reads and writes are one step for
 * every replica that calls it). Sent by SHA (EVALSHA), and in full once per server when it is not cached yet.
 */
export class RedisScript {
  readonly #sha: string;

  constructor(readonly source: string) {
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
