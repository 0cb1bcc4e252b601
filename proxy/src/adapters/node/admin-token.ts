import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The admin token of a deployment that configures none: generated once into `DATA_DIR/admin-token.txt` (mode 0600)
 * and read back on every later start, so a restart does not lock out the admin (and end every console session,
 * whose signing secret derives from it). A file too short to be a token is an error, not silently replaced.
 */
export function loadOrCreateAdminToken(dataDir: string): { token: string; file: string; created: boolean } {
  const file = join(dataDir, "admin-token.txt");
  const existing = readIfPresent(file);
  if (existing !== null) {
    if (existing.length < 16)
      throw new Error(`${file} holds no admin token (at least 16 characters): fix or delete it`);
    return { token: existing, file, created: false };
  }
  const token = `adm_${randomBytes(16).toString("hex")}`;
  try {
    // "wx": two processes starting together cannot both write; the second reads the first one's token.
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" });
    return { token, file, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return loadOrCreateAdminToken(dataDir);
  }
}

function readIfPresent(file: string): string | null {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}
