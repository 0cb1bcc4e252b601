/**
 * The client's IP address for per-IP rate limits, without trusting what the client can forge.
 *
 * `X-Forwarded-For` is a list every proxy appends to, so only its right-hand end is trustworthy: we start from the
 * TCP peer and walk right-to-left while each hop is one of *our* proxies; the first address that is not ours is the
 * client (everything further left was written by the client itself). A peer that is not a trusted proxy is the
 * client, and its XFF is ignored outright. `CF-Connecting-IP` is set by Cloudflare and is honoured only when
 * configured, i.e. on Workers (where there is no socket peer) or behind a trusted proxy.
 */

export interface IpAddress {
  version: 4 | 6;
  /** 4 or 16 bytes, network order */
  bytes: Uint8Array;
}

interface Cidr extends IpAddress {
  prefix: number;
}

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? "";
    // No leading zeros: "010" means 8 to some parsers and 10 to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

function parseIpv6(s: string): Uint8Array | null {
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string | undefined): number[] | null => {
    if (!h) return [];
    const out: number[] = [];
    const parts = h.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? "";
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(Number.parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/**
 * Parses an address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`,
 * `fe80::1%eth0`. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack Node socket reports) becomes IPv4, so one
 * client has one key. Returns null for anything else (e.g. the literal "unknown" some proxies write).
 */
export function parseIp(input: string): IpAddress | null {
  let s = input.trim();
  const bracket = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (bracket?.[1]) s = bracket[1];
  else if (/^[\d.]+:\d{1,5}$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(":")) {
    const v4 = parseIpv4(s);
    return v4 ? { version: 4, bytes: v4 } : null;
  }
  const v6 = parseIpv6(s);
  if (!v6) return null;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? { version: 4, bytes: v6.slice(12) } : { version: 6, bytes: v6 };
}

/** Canonical text: dotted IPv4, RFC 5952 IPv6 (lowercase, longest zero run compressed), so keys are stable. */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return Array.from(ip.bytes).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((ip.bytes[2 * i] ?? 0) << 8) | (ip.bytes[2 * i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a bare address (a /32 or /128). Throws on bad configuration. */
export function parseCidr(input: string): Cidr {
  const [addr = "", bits, ...rest] = input.trim().split("/");
  const ip = parseIp(addr);
  if (!ip || rest.length > 0) throw new RangeError(`not an IP address or CIDR: ${input}`);
  const max = ip.version === 4 ? 32 : 128;
  // An IPv4-mapped IPv6 CIDR (::ffff:10.0.0.0/104) was parsed as IPv4: shift its prefix accordingly.
  const mappedShift = ip.version === 4 && addr.includes(":") ? 96 : 0;
  const prefix = bits === undefined ? max : Number(bits) - mappedShift;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) throw new RangeError(`bad prefix length: ${input}`);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new RangeError(`bad prefix length: ${input}`);
  return { ...ip, prefix };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.version !== ip.version) return false;
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rem = cidr.prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((cidr.bytes[whole] ?? 0) & mask) === ((ip.bytes[whole] ?? 0) & mask);
}

/** Common trusted-proxy sets, to spread into `trustedProxies`. */
export const LOOPBACK_CIDRS = ["127.0.0.0/8", "::1/128"] as const;
export const PRIVATE_CIDRS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"] as const;

export interface ClientIpOptions {
  /** CIDRs (or bare addresses) of our own reverse proxies / load balancers; IPv4 and IPv6 */
  trustedProxies?: readonly string[];
  /**
   * Honour `CF-Connecting-IP` (Cloudflare sets it and overwrites any client value). Only when there is no socket
   * peer (Workers) or the peer is a trusted proxy: a Node origin reachable directly must not believe it.
   */
  trustCfConnectingIp?: boolean;
  /**
   * A platform header that carries the client address and that the platform overwrites (e.g. `CF-Connecting-IP`,
   * `Fly-Client-IP`). Same trust rule as `trustCfConnectingIp`, for any header name.
   */
  clientIpHeader?: string;
}

/** A `Headers` or anything with the same `get` (Hono's `c.req.raw.headers`). */
export interface HeaderReader {
  get(name: string): string | null;
}

export interface ClientIpInput {
  /** the socket peer (Hono `getConnInfo(c).remote.address`); undefined on Workers */
  remoteAddress?: string | undefined;
  headers: HeaderReader;
}

/**
 * Builds the resolver once (CIDRs are parsed and checked at build time). It returns the canonical client address,
 * or undefined when nothing usable is known (the caller picks a fallback key, e.g. one shared "unknown" bucket).
 *
 * @example
 * const clientIp = createClientIpResolver({ trustedProxies: [...LOOPBACK_CIDRS, "10.0.0.0/8"] });
 * const ip = clientIp({ remoteAddress: getConnInfo(c).remote.address, headers: c.req.raw.headers });
 */
export function createClientIpResolver({
  trustedProxies = [],
  trustCfConnectingIp = false,
  clientIpHeader,
}: ClientIpOptions = {}) {
  const platformHeader = clientIpHeader?.toLowerCase() ?? (trustCfConnectingIp ? "cf-connecting-ip" : undefined);
  const trusted = trustedProxies.map(parseCidr);
  const isTrusted = (ip: IpAddress) => trusted.some((c) => cidrContains(c, ip));

  // The answer depends only on the peer and two headers: memoised, since the same clients (and the same proxy hops)
  // come back request after request. Bounded: a flood of distinct addresses only empties it.
  const memo = new Map<string, string | undefined>();
  return function clientIp({ remoteAddress, headers }: ClientIpInput): string | undefined {
    const xff = headers.get("x-forwarded-for");
    const cf = platformHeader ? headers.get(platformHeader) : null;
    const key = `${remoteAddress ?? ""}\n${xff ?? ""}\n${cf ?? ""}`;
    if (memo.has(key)) return memo.get(key);
    const ip = resolve(remoteAddress, xff, cf);
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(key, ip);
    return ip;
  };

  function resolve(remoteAddress: string | undefined, xff: string | null, cf: string | null): string | undefined {
    const peer = remoteAddress === undefined ? null : parseIp(remoteAddress);
    const peerTrusted = peer !== null && isTrusted(peer);
    if (platformHeader && (remoteAddress === undefined || peerTrusted)) {
      const ip = cf === null ? null : parseIp(cf);
      if (ip) return formatIp(ip);
    }
    if (!peer) return undefined;
    if (!peerTrusted) return formatIp(peer);

    // Headers.get joins repeated fields with ", ", so several XFF lines read as one list.
    const hops = (xff ?? "").split(",").filter((h) => h.trim() !== "");
    let nearest = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseIp(hops[i] ?? "");
      // A garbage entry was written by a trusted hop we cannot see past: the best we know is that hop's own address.
      if (!hop) return formatIp(nearest);
      if (!isTrusted(hop)) return formatIp(hop);
      nearest = hop;
    }
    // Every hop is ours (e.g. an internal health checker): the leftmost one is the origin.
    return formatIp(nearest);
  }
}

const MEMO_SIZE = 10_000;
const rateLimitKeys = new Map<string, string>();

/**
 * The rate-limit bucket for an address. IPv6 clients are keyed by their /64 by default: one subscriber usually owns
 * a whole /64 and can rotate addresses inside it at will, so per-address limits would not limit anyone.
 */
export function ipRateLimitKey(ip: string, ipv6PrefixLength = 64): string {
  const memoKey = `${ipv6PrefixLength}/${ip}`;
  let key = rateLimitKeys.get(memoKey);
  if (key === undefined) {
    key = rateLimitKeyOf(ip, ipv6PrefixLength);
    if (rateLimitKeys.size >= MEMO_SIZE) rateLimitKeys.clear();
    rateLimitKeys.set(memoKey, key);
  }
  return key;
}

function rateLimitKeyOf(ip: string, ipv6PrefixLength: number): string {
  const parsed = parseIp(ip);
  if (!parsed) return `ip:${ip}`;
  if (parsed.version === 4) return `ip:${formatIp(parsed)}`;
  const bytes = new Uint8Array(16);
  const whole = ipv6PrefixLength >> 3;
  bytes.set(parsed.bytes.subarray(0, whole));
  const rem = ipv6PrefixLength & 7;
  if (rem > 0 && whole < 16) bytes[whole] = (parsed.bytes[whole] ?? 0) & ((0xff << (8 - rem)) & 0xff);
  return `ip:${formatIp({ version: 6, bytes })}/${ipv6PrefixLength}`;
}

/**
 * The resolver as an operator configures it (Node entry): `TRUSTED_PROXIES` is a comma-separated list of CIDRs of our
 * own proxies (empty by default: no forwarding header is believed), `CLIENT_IP_HEADER` an optional platform header.
 */
export function clientIpResolverFromEnv(env: { TRUSTED_PROXIES?: string; CLIENT_IP_HEADER?: string }) {
  const trustedProxies = (env.TRUSTED_PROXIES ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const header = env.CLIENT_IP_HEADER?.trim();
  return createClientIpResolver({ trustedProxies, ...(header ? { clientIpHeader: header } : {}) });
}
