/**
 * Console sessions: a signed cookie, so the same code works on Node and on Workers with no session table.
 *
 * The cookie carries `{ sid, sub, exp, sealed }` and an HMAC-SHA-256 over it (Web Crypto, keyed from a server secret).
 * `sub` names who signed in: for a customer the SHA-256 of the API key it presented, re-checked against the key store
 * on every page, so revoking that key ends the session; for an admin, "admin". `sealed` is the presented key (or admin
 * token) encrypted with AES-GCM under a key derived from the same secret: the console calls the API on the user's
 * behalf with it (jobs, the playground, admin writes), so every console action goes through the API's own checks,
 * limits and metering. It grants nothing the cookie itself does not (the console can already mint keys). Sessions
 * expire at `exp` (server time, injectable clock). Signing out records `sid` until `exp` in the shared store
 * (`ConsoleSessionStore`: a table on SQLite, D1 and Postgres), which every page checks, so a copied cookie is refused by
 * every process, replica and Workers isolate over that database; this process also remembers it locally.
 */

import type { ConsoleSessionStore } from "../store/ports.ts";

const encoder = new TextEncoder();

export interface SessionClaims {
  /** random session id (also what CSRF tokens are bound to) */
  sid: string;
  /** customer: hex SHA-256 of the key; admin: "admin" */
  sub: string;
  /** epoch ms */
  exp: number;
  /** AES-GCM sealed credential (iv.ciphertext, base64url) */
  sealed: string;
}

const b64url = (bytes: Uint8Array): string => {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
};
const fromB64url = (text: string): Uint8Array<ArrayBuffer> | null => {
  try {
    const s = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
};

export function randomToken(bytes = 18): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Signs and checks session cookies and CSRF tokens with one HMAC key. */
export class SessionSigner {
  readonly #key: Promise<CryptoKey>;
  readonly #sealKey: Promise<CryptoKey>;
  readonly #revoked = new Map<string, number>();

  constructor(
    secret: string,
    private readonly now: () => number,
    /** where sign-outs are shared; without one (a store that has none), this process's memory only */
    private readonly revocations?: ConsoleSessionStore,
  ) {
    this.#key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    this.#sealKey = crypto.subtle
      .digest("SHA-256", encoder.encode(`console-seal.${secret}`))
      .then((raw) => crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]));
  }

  async #seal(text: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await this.#sealKey, encoder.encode(text));
    return `${b64url(iv)}.${b64url(new Uint8Array(data))}`;
  }

  /** The credential sealed in a session (null if it does not decrypt: another secret). */
  async unseal(claims: SessionClaims): Promise<string | null> {
    const [iv, data] = claims.sealed.split(".").map(fromB64url);
    if (!iv || !data) return null;
    try {
      return new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, await this.#sealKey, data));
    } catch {
      return null;
    }
  }

  async #mac(text: string): Promise<string> {
    return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", await this.#key, encoder.encode(text))));
  }

  async #verify(text: string, mac: string): Promise<boolean> {
    const bytes = fromB64url(mac);
    if (!bytes) return false;
    // crypto.subtle.verify compares in constant time.
    return crypto.subtle.verify("HMAC", await this.#key, bytes, encoder.encode(text));
  }

  async issue(sub: string, credential: string, ttlMs: number): Promise<{ cookie: string; claims: SessionClaims }> {
    const claims: SessionClaims = {
      sid: randomToken(),
      sub,
      exp: this.now() + ttlMs,
      sealed: await this.#seal(credential),
    };
    const body = b64url(encoder.encode(JSON.stringify(claims)));
    return { cookie: `${body}.${await this.#mac(`session.${body}`)}`, claims };
  }

  /** The claims of a well-signed, unexpired, not signed-out cookie; null otherwise. */
  async read(cookie: string | undefined): Promise<SessionClaims | null> {
    if (!cookie) return null;
    const [body, mac, extra] = cookie.split(".");
    if (!body || !mac || extra !== undefined || !(await this.#verify(`session.${body}`, mac))) return null;
    const bytes = fromB64url(body);
    if (!bytes) return null;
    let claims: SessionClaims;
    try {
      claims = JSON.parse(new TextDecoder().decode(bytes)) as SessionClaims;
    } catch {
      return null;
    }
    if (
      typeof claims.exp !== "number" ||
      typeof claims.sealed !== "string" ||
      typeof claims.sid !== "string" ||
      claims.exp <= this.now() ||
      this.#revoked.has(claims.sid) ||
      (await this.revocations?.isRevoked(claims.sid))
    )
      return null;
    return claims;
  }

  /** Ends a session before its expiry (sign-out), for every process that shares the store. */
  async signOut(claims: SessionClaims): Promise<void> {
    const now = this.now();
    for (const [sid, exp] of this.#revoked) if (exp <= now) this.#revoked.delete(sid);
    this.#revoked.set(claims.sid, claims.exp);
    await this.revocations?.revoke(claims.sid, claims.exp);
  }

  /** A CSRF token bound to a session (or a sign-in form's nonce): forms carry it, state changes require it. */
  csrfToken(bindTo: string): Promise<string> {
    return this.#mac(`csrf.${bindTo}`);
  }

  async checkCsrf(bindTo: string, token: unknown): Promise<boolean> {
    return typeof token === "string" && token.length > 0 && this.#verify(`csrf.${bindTo}`, token);
  }
}
