/**
 * Job audio on disk (Node): one file per key under a root folder, e.g. `DATA_DIR/job-results/<job id>/<n>.wav`.
 * A put writes a temporary file, fsyncs it, renames it into place and fsyncs the folder, so a reader (or a process
 * restarted after kill -9 or a power cut) sees either the whole object or none.
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
  constructor(private readonly root: string) {}

  #path(key: string): string {
    assertResultKey(key);
    return join(this.root, ...key.split("/").filter(Boolean));
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.#path(key);
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    const temp = `${path}.${crypto.randomUUID()}.tmp`;
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
        .filter((e) => e.isFile() && !e.name.endsWith(".tmp"))
        .map((e) => e.name);
    } catch (e) {
      if (isMissing(e)) return 0;
      throw e;
    }
    await rm(dir, { recursive: true, force: true });
    return files.length;
  }
}
