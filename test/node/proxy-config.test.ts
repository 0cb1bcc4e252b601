import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

// Replicas share one database but not DATA_DIR, where a proxy without ADMIN_TOKEN would generate its own: each
// replica would then answer a different admin token. The entry refuses that configuration before it connects.
it("refuses DATABASE_URL without ADMIN_TOKEN (exit 2, a message), before touching the database", async () => {
  const dir = mkdtempSync(join(tmpdir(), "proxy-config-"));
  try {
    const { ADMIN_TOKEN: _, ...inherited } = process.env;
    const env = { ...inherited, DATA_DIR: dir, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", PORT: "0" };
    const result = await run(process.execPath, ["--import", "tsx", "proxy/src/entry.node.ts"], { env }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ADMIN_TOKEN is required with DATABASE_URL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
