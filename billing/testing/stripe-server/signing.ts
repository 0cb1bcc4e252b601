/**
 * Webhook signatures as Stripe makes them: HMAC-SHA256 with the endpoint secret over `"{t}.{payload}"`, hex, sent
 * as `Stripe-Signature: t={t},v1={hex}`. Web Crypto only, so it runs anywhere.
 */
export async function signPayload(payload: string, secret: string, timestampSeconds: number): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, enc.encode(`${timestampSeconds}.${payload}`));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function signatureHeader(payload: string, secret: string, timestampSeconds: number): Promise<string> {
  return `t=${timestampSeconds},v1=${await signPayload(payload, secret, timestampSeconds)}`;
}
