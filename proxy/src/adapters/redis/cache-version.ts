import type { Redis } from "ioredis";
import type { SharedCacheVersion } from "../../store/read-cache.ts";

/**
 * The read cache's shared version (`store/read-cache.ts`) in Redis: one counter, INCR on every write through any
 * replica's stores, GET before every key lookup. A missing counter reads as "0".
 */
export class RedisCacheVersion implements SharedCacheVersion {
  readonly #key: string;

  constructor(
    private readonly redis: Redis,
    options: { prefix?: string } = {},
  ) {
    this.#key = `${options.prefix ?? "tts:"}stores-version`;
  }

  async read(): Promise<string> {
    return (await this.redis.get(this.#key)) ?? "0";
  }

  async bump(): Promise<void> {
    await this.redis.incr(this.#key);
  }
}
