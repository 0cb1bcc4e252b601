/**
 * Job audio on disk (Node): one file per key under a root folder, e.g. `DATA_DIR/job-results/<job id>/<n>.wav`.
 * A put writes a temporary file (in `<root>/~tmp`, a name no key can have), fsyncs it, renames it into place and
 * fsyncs the folder, so a reader (or a process restarted after kill -9 or a power cut) sees either the whole object
 * or none. What a killed process left in `~tmp` is removed by `clearTemporaries()` at the next start.
 */
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { assertResultKey, type ResultStore } from "../../jobs/ports.ts";

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === "ENOENT";

async function fsyncPath(path: string, flags: "r" | "r+"): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class DiskResultStore implements ResultStore {
  /** folders known to exist (a job's folder is made once, not on every put) */
  readonly #folders = new Set<string>();

  readonly #temp: string;

  constructor(private readonly root: string) {
    this.#temp = join(root, "~tmp");
  }

  /** Removes the temporary files of writes that never finished (call at start, as the store's only writer). */
  async clearTemporaries(): Promise<void> {
    await rm(this.#temp, { recursive: true, force: true });
    this.#folders.delete(this.#temp);
  }

  async #folder(dir: string): Promise<void> {
    if (this.#folders.has(dir)) return;
    await mkdir(dir, { recursive: true });
    if (this.#folders.size > 10_000) this.#folders.clear();
    this.#folders.add(dir);
  }

  #path(key: string): string {
    assertResultKey(key);
    return join(this.root, ...key.split("/").filter(Boolean));
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.#path(key);
    const dir = dirname(path);
    await Promise.all([this.#folder(dir), this.#folder(this.#temp)]);
    const temp = join(this.#temp, crypto.randomUUID());
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await fsyncPath(dir, "r");
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const buffer = await readFile(this.#path(key));
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.endsWith("/")) throw new RangeError(`a prefix ends with "/": ${JSON.stringify(prefix)}`);
    const dir = this.#path(prefix);
    let files: string[];
    try {
      files = (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => e.name);
    } catch (e) {
      if (isMissing(e)) return 0;
      throw e;
    }
    await rm(dir, { recursive: true, force: true });
    this.#folders.delete(dir);
    return files.length;
  }
}
