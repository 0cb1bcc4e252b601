import { describe, expect, test } from "vitest";
import {
  cidrContains,
  clientIpResolverFromEnv,
  createClientIpResolver,
  formatIp,
  ipRateLimitKey,
  LOOPBACK_CIDRS,
  parseCidr,
  parseIp,
} from "./client-ip.ts";

const headers = (h: Record<string, string> = {}) => new Headers(h);

describe("parseIp / formatIp", () => {
  const cases: { name: string; input: string; expected: string | null }[] = [
    { name: "IPv4", input: "203.0.113.7", expected: "203.0.113.7" },
    { name: "IPv4 with a port", input: "203.0.113.7:51234", expected: "203.0.113.7" },
    { name: "IPv4 with spaces around it", input: "  198.51.100.1 ", expected: "198.51.100.1" },
    { name: "IPv6 is canonicalised (RFC 5952)", input: "2001:DB8:0:0:0:0:0:1", expected: "2001:db8::1" },
    { name: "IPv6 in brackets with a port", input: "[2001:db8::1]:443", expected: "2001:db8::1" },
    { name: "IPv6 with a zone", input: "fe80::1%eth0", expected: "fe80::1" },
    { name: "the longest zero run is compressed", input: "1:0:0:2:0:0:0:3", expected: "1:0:0:2::3" },
    { name: "a single zero group is not compressed", input: "1:2:3:4:5:6:0:8", expected: "1:2:3:4:5:6:0:8" },
    { name: "IPv4-mapped IPv6 becomes IPv4", input: "::ffff:192.0.2.9", expected: "192.0.2.9" },
    { name: "loopback", input: "::1", expected: "::1" },
    { name: "unspecified", input: "::", expected: "::" },
    { name: "an octet above 255", input: "1.2.3.256", expected: null },
    { name: "leading zeros are ambiguous", input: "010.0.0.1", expected: null },
    { name: "the word unknown", input: "unknown", expected: null },
    { name: "two ::", input: "1::2::3", expected: null },
    { name: "nine groups", input: "1:2:3:4:5:6:7:8:9", expected: null },
    { name: "an empty string", input: "", expected: null },
  ];
  for (const { name, input, expected } of cases) {
    test(name, () => {
      const ip = parseIp(input);
      expect(ip ? formatIp(ip) : null).toBe(expected);
    });
  }
});

describe("CIDRs", () => {
  const contains = (cidr: string, ip: string) => {
    const parsed = parseIp(ip);
    return parsed !== null && cidrContains(parseCidr(cidr), parsed);
  };

  test("IPv4 prefixes, including ones that split an octet", () => {
    expect(contains("10.0.0.0/8", "10.255.1.2")).toBe(true);
    expect(contains("10.0.0.0/8", "11.0.0.1")).toBe(false);
    expect(contains("172.16.0.0/12", "172.31.255.255")).toBe(true);
    expect(contains("172.16.0.0/12", "172.32.0.0")).toBe(false);
    expect(contains("0.0.0.0/0", "8.8.8.8")).toBe(true);
    expect(contains("192.0.2.7", "192.0.2.7")).toBe(true);
    expect(contains("192.0.2.7", "192.0.2.8")).toBe(false);
  });

  test("IPv6 prefixes; versions never match each other", () => {
    expect(contains("fc00::/7", "fd12:3456::1")).toBe(true);
    expect(contains("fc00::/7", "fe80::1")).toBe(false);
    expect(contains("2001:db8::/32", "2001:db8:ffff::1")).toBe(true);
    expect(contains("::/0", "10.0.0.1")).toBe(false);
  });

  test("an IPv4-mapped socket address matches an IPv4 CIDR", () => {
    expect(contains("127.0.0.0/8", "::ffff:127.0.0.1")).toBe(true);
    expect(contains("::ffff:10.0.0.0/104", "10.1.2.3")).toBe(true);
  });

  test("bad configuration fails when parsed", () => {
    for (const bad of ["10.0.0.0/33", "::/129", "nope/8", "10.0.0.0/8/1", "10.0.0.0/-1", "10.0.0.0/"]) {
      expect(() => parseCidr(bad), bad).toThrow(RangeError);
    }
  });
});

describe("createClientIpResolver", () => {
  const resolve = createClientIpResolver({ trustedProxies: [...LOOPBACK_CIDRS, "10.0.0.0/8", "fd00::/8"] });

  test("no proxy: the socket peer is the client", () => {
    expect(resolve({ remoteAddress: "203.0.113.7", headers: headers() })).toBe("203.0.113.7");
  });

  test("a spoofed X-Forwarded-For from an untrusted peer is ignored", () => {
    const h = headers({ "x-forwarded-for": "1.1.1.1, 10.0.0.5" });
    expect(resolve({ remoteAddress: "203.0.113.7", headers: h })).toBe("203.0.113.7");
  });

  test("behind our proxy: the rightmost untrusted hop is the client", () => {
    const h = headers({ "x-forwarded-for": "198.51.100.23" });
    expect(resolve({ remoteAddress: "10.0.0.2", headers: h })).toBe("198.51.100.23");
  });

  test("a client that forges XFF entries cannot hide behind them", () => {
    // The client sent "XFF: 1.2.3.4"; our proxy appended the real address it saw.
    const h = headers({ "x-forwarded-for": "1.2.3.4, 198.51.100.23" });
    expect(resolve({ remoteAddress: "10.0.0.2", headers: h })).toBe("198.51.100.23");
  });

  test("several trusted hops are skipped, IPv6 included", () => {
    const h = headers({ "x-forwarded-for": "2001:db8::42, 10.1.1.1, fd00::7" });
    expect(resolve({ remoteAddress: "::1", headers: h })).toBe("2001:db8::42");
  });

  test("repeated XFF lines read as one list", () => {
    const h = new Headers();
    h.append("x-forwarded-for", "9.9.9.9");
    h.append("x-forwarded-for", "198.51.100.23, 10.0.0.9");
    expect(resolve({ remoteAddress: "10.0.0.2", headers: h })).toBe("198.51.100.23");
  });

  test("a garbage hop stops the walk at the last address we can vouch for", () => {
    const h = headers({ "x-forwarded-for": "198.51.100.23, unknown, 10.0.0.9" });
    expect(resolve({ remoteAddress: "10.0.0.2", headers: h })).toBe("10.0.0.9");
  });

  test("all hops trusted: the leftmost is the origin", () => {
    const h = headers({ "x-forwarded-for": "10.9.9.9, 10.0.0.9" });
    expect(resolve({ remoteAddress: "127.0.0.1", headers: h })).toBe("10.9.9.9");
  });

  test("a trusted peer without XFF is itself the client", () => {
    expect(resolve({ remoteAddress: "::ffff:127.0.0.1", headers: headers() })).toBe("127.0.0.1");
  });

  test("no usable peer gives undefined", () => {
    expect(resolve({ remoteAddress: undefined, headers: headers({ "x-forwarded-for": "1.2.3.4" }) })).toBeUndefined();
    expect(resolve({ remoteAddress: "garbage", headers: headers() })).toBeUndefined();
  });

  test("CF-Connecting-IP is ignored unless configured", () => {
    const h = headers({ "cf-connecting-ip": "1.2.3.4" });
    expect(resolve({ remoteAddress: "203.0.113.7", headers: h })).toBe("203.0.113.7");
    expect(resolve({ remoteAddress: undefined, headers: h })).toBeUndefined();
  });

  test("CF-Connecting-IP is honoured on the edge (no socket peer) when configured", () => {
    const edge = createClientIpResolver({ trustCfConnectingIp: true });
    expect(edge({ headers: headers({ "cf-connecting-ip": "2001:DB8::5" }) })).toBe("2001:db8::5");
    expect(edge({ headers: headers({ "cf-connecting-ip": "nonsense" }) })).toBeUndefined();
  });

  test("with CF-Connecting-IP configured, a direct untrusted peer still cannot set it", () => {
    const origin = createClientIpResolver({ trustCfConnectingIp: true, trustedProxies: ["10.0.0.0/8"] });
    const h = headers({ "cf-connecting-ip": "1.2.3.4" });
    expect(origin({ remoteAddress: "203.0.113.7", headers: h })).toBe("203.0.113.7");
    expect(origin({ remoteAddress: "10.0.0.3", headers: h })).toBe("1.2.3.4");
  });

  test("answers are remembered per peer and header values, never per peer alone", () => {
    const resolve = createClientIpResolver({ trustedProxies: ["10.0.0.0/8"], trustCfConnectingIp: true });
    for (let round = 0; round < 3; round++) {
      expect(resolve({ remoteAddress: "10.0.0.2", headers: headers({ "x-forwarded-for": "1.1.1.1" }) })).toBe(
        "1.1.1.1",
      );
      expect(resolve({ remoteAddress: "10.0.0.2", headers: headers({ "x-forwarded-for": "2.2.2.2" }) })).toBe(
        "2.2.2.2",
      );
      expect(resolve({ remoteAddress: "10.0.0.2", headers: headers({ "cf-connecting-ip": "3.3.3.3" }) })).toBe(
        "3.3.3.3",
      );
      expect(resolve({ remoteAddress: "10.0.0.2", headers: headers({}) })).toBe("10.0.0.2");
      expect(resolve({ remoteAddress: "203.0.113.9", headers: headers({ "x-forwarded-for": "1.1.1.1" }) })).toBe(
        "203.0.113.9",
      );
    }
    // past the memo's size it starts over and still answers right
    for (let i = 0; i < 10_050; i++) {
      const ip = `198.18.${(i >> 8) & 255}.${i & 255}`;
      expect(resolve({ remoteAddress: "10.0.0.2", headers: headers({ "x-forwarded-for": ip }) })).toBe(ip);
    }
  });

  test("a bad trusted-proxy list fails at build time", () => {
    expect(() => createClientIpResolver({ trustedProxies: ["10.0.0.0/40"] })).toThrow(RangeError);
  });
});

describe("ipRateLimitKey", () => {
  test("IPv4 is keyed per address, IPv6 per /64 by default", () => {
    expect(ipRateLimitKey("203.0.113.7")).toBe("ip:203.0.113.7");
    expect(ipRateLimitKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("ip:2001:db8:1:2::/64");
    expect(ipRateLimitKey("2001:db8:1:2::1")).toBe(ipRateLimitKey("2001:db8:1:2:ffff::9"));
    expect(ipRateLimitKey("2001:db8:1:2:3:4:5:6", 56)).toBe("ip:2001:db8:1::/56");
    expect(ipRateLimitKey("2001:db8::1", 128)).toBe("ip:2001:db8::1/128");
  });
});

describe("clientIpResolverFromEnv (the Node entry's configuration)", () => {
  test("by default no forwarding header is trusted, not even from loopback: a spoofed XFF is ignored", () => {
    const resolve = clientIpResolverFromEnv({});
    const spoofed = headers({ "x-forwarded-for": "198.51.100.23", "cf-connecting-ip": "198.51.100.24" });
    expect(resolve({ remoteAddress: "127.0.0.1", headers: spoofed })).toBe("127.0.0.1");
  });

  test("named trusted proxies: the right-most untrusted address is the client", () => {
    const resolve = clientIpResolverFromEnv({ TRUSTED_PROXIES: " 10.0.0.0/8 , fd00::/8" });
    const h = headers({ "x-forwarded-for": "1.2.3.4, 198.51.100.23, 10.0.0.7" });
    expect(resolve({ remoteAddress: "10.0.0.2", headers: h })).toBe("198.51.100.23");
    expect(resolve({ remoteAddress: "203.0.113.1", headers: h })).toBe("203.0.113.1");
  });

  test("a platform header is believed only from a trusted peer (or with no socket peer at all)", () => {
    const resolve = clientIpResolverFromEnv({ TRUSTED_PROXIES: "10.0.0.0/8", CLIENT_IP_HEADER: "Fly-Client-IP" });
    const h = headers({ "fly-client-ip": "198.51.100.9" });
    expect(resolve({ remoteAddress: "10.0.0.2", headers: h })).toBe("198.51.100.9");
    expect(resolve({ remoteAddress: "203.0.113.1", headers: h })).toBe("203.0.113.1");
    expect(resolve({ remoteAddress: undefined, headers: h })).toBe("198.51.100.9");
  });

  test("a bad CIDR fails at start-up", () => {
    expect(() => clientIpResolverFromEnv({ TRUSTED_PROXIES: "10.0.0.0/33" })).toThrow(RangeError);
  });
});
