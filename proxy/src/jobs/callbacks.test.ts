import { describe, expect, it } from "vitest";
import { callbackUrlProblem, newCallbackSecret, signCallback, verifyCallback } from "./callbacks.ts";

describe("callback URLs", () => {
  it("takes public https URLs, and http only where allowed", () => {
    expect(callbackUrlProblem("https://hooks.example.com/tts?x=1", false)).toBeNull();
    expect(callbackUrlProblem("http://hooks.example.com/tts", false)).toMatch(/https/);
    expect(callbackUrlProblem("http://hooks.example.com/tts", true)).toBeNull();
    expect(callbackUrlProblem("ftp://hooks.example.com/tts", true)).toMatch(/http/);
    expect(callbackUrlProblem("https://user:pw@hooks.example.com/", false)).toMatch(/credentials/);
    expect(callbackUrlProblem("nonsense", false)).toMatch(/not a URL/);
  });

  it("refuses local and private addresses unless http callbacks are allowed (tests, local use)", () => {
    for (const url of [
      "https://127.0.0.1/x",
      "https://localhost:8443/x",
      "https://10.1.2.3/x",
      "https://192.168.0.10/x",
      "https://172.20.0.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/x",
      "https://[fd00::1]/x",
      "https://[fe80::1]/x",
    ]) {
      expect(callbackUrlProblem(url, false), url).toMatch(/private or local/);
      expect(callbackUrlProblem(url.replace("https", "http"), true), url).toBeNull();
    }
    expect(callbackUrlProblem("https://8.8.8.8/x", false)).toBeNull();
  });
});

describe("callback signatures", () => {
  it("verifies what was signed, and nothing else", async () => {
    const secret = newCallbackSecret();
    const body = '{"type":"job.finished"}';
    const now = 1_800_000_000;
    const header = await signCallback(secret, body, now);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(await verifyCallback(secret, header, body, now + 10)).toBe(true);
    expect(await verifyCallback(secret, header, `${body} `, now)).toBe(false);
    expect(await verifyCallback(newCallbackSecret(), header, body, now)).toBe(false);
    expect(await verifyCallback(secret, header, body, now + 301)).toBe(false);
    expect(await verifyCallback(secret, header.replace("t=1800000000", "t=1800000001"), body, now)).toBe(false);
    expect(await verifyCallback(secret, null, body, now)).toBe(false);
    expect(await verifyCallback(secret, "garbage", body, now)).toBe(false);
  });
});
