import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadOrCreateAdminToken } from "./admin-token.ts";

describe("loadOrCreateAdminToken", () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), "admin-token-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("generates a token once, owner-readable only, and returns the same one on every later start", () => {
    const d = dir();
    const first = loadOrCreateAdminToken(d);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^adm_[0-9a-f]{32}$/);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const second = loadOrCreateAdminToken(d);
    expect(second).toEqual({ ...first, created: false });
    expect(readFileSync(first.file, "utf8").trim()).toBe(first.token);
  });

  it("keeps an operator's own token from the file, and refuses a file that holds no token", () => {
    const d = dir();
    writeFileSync(join(d, "admin-token.txt"), "my-own-admin-token-123\n");
    expect(loadOrCreateAdminToken(d).token).toBe("my-own-admin-token-123");
    writeFileSync(join(d, "admin-token.txt"), "short\n");
    expect(() => loadOrCreateAdminToken(d)).toThrow(/no admin token/);
  });
});
