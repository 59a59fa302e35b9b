// Behind a load balancer: HAProxy's PROXY protocol (v1 text, v2 binary) and trusted forwarding headers.
// Spec: https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt

export const PROXY_INCOMPLETE = -1;
export const PROXY_INVALID = -2;

export interface ProxyInfo {
  /** Bytes the PROXY header took. */
  length: number;
  /** The original client, or null for LOCAL/UNKNOWN (health checks from the proxy itself). */
  address: string | null;
  port: number;
}

const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
const V1_MAX = 107; // the longest v1 line, CRLF included

/** Parses a PROXY header at the start of [start, end): ProxyInfo, PROXY_INCOMPLETE or PROXY_INVALID. */
export function parseProxyHeader(buf: Uint8Array, start: number, end: number): ProxyInfo | number {
  const n = end - start;
  if (n === 0) return PROXY_INCOMPLETE;
  if (buf[start] === 0x0d) return parseV2(buf, start, end);
  for (let i = 0; i < V1_PREFIX.length; i++) {
    if (i >= n) return PROXY_INCOMPLETE;
    if (buf[start + i] !== V1_PREFIX[i]) return PROXY_INVALID;
  }
  let lf = -1;
  for (let i = start; i < Math.min(end, start + V1_MAX); i++) {
    if (buf[i] === 0x0a) {
      lf = i;
      break;
    }
  }
  if (lf < 0) return n >= V1_MAX ? PROXY_INVALID : PROXY_INCOMPLETE;
  if (buf[lf - 1] !== 0x0d) return PROXY_INVALID;
  const line = String.fromCharCode(...buf.subarray(start + 6, lf - 1));
  const parts = line.split(" ");
  const length = lf + 1 - start;
  if (parts[0] === "UNKNOWN") return { length, address: null, port: 0 };
  if (parts.length !== 5 || (parts[0] !== "TCP4" && parts[0] !== "TCP6")) return PROXY_INVALID;
  const [, src, , sport] = parts as [string, string, string, string, string];
  const port = Number(sport);
  if (!/^\d{1,5}$/.test(sport) || port > 65535) return PROXY_INVALID;
  if (parts[0] === "TCP4" ? !isIPv4(src) : !isIPv6(src)) return PROXY_INVALID;
  return { length, address: src, port };
}

function parseV2(buf: Uint8Array, start: number, end: number): ProxyInfo | number {
  const n = end - start;
  for (let i = 0; i < V2_SIGNATURE.length; i++) {
    if (i >= n) return PROXY_INCOMPLETE;
    if (buf[start + i] !== V2_SIGNATURE[i]) return PROXY_INVALID;
  }
  if (n < 16) return PROXY_INCOMPLETE;
  const verCmd = buf[start + 12]!;
  const fam = buf[start + 13]!;
  const len = (buf[start + 14]! << 8) | buf[start + 15]!;
  if (verCmd >> 4 !== 2) return PROXY_INVALID;
  if (n < 16 + len) return PROXY_INCOMPLETE;
  const length = 16 + len;
  const cmd = verCmd & 0x0f;
  if (cmd === 0) return { length, address: null, port: 0 }; // LOCAL: the proxy's own connection
  if (cmd !== 1) return PROXY_INVALID;
  const p = start + 16;
  if (fam === 0x11 || fam === 0x12) {
    // TCP/UDP over IPv4: src(4) dst(4) sport(2) dport(2)
    if (len < 12) return PROXY_INVALID;
    const address = `${buf[p]}.${buf[p + 1]}.${buf[p + 2]}.${buf[p + 3]}`;
    return { length, address, port: (buf[p + 8]! << 8) | buf[p + 9]! };
  }
  if (fam === 0x21 || fam === 0x22) {
    // over IPv6: src(16) dst(16) sport(2) dport(2)
    if (len < 36) return PROXY_INVALID;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((buf[p + i]! << 8) | buf[p + i + 1]!).toString(16));
    return { length, address: compressIPv6(groups), port: (buf[p + 32]! << 8) | buf[p + 33]! };
  }
  return { length, address: null, port: 0 }; // UNSPEC or unix sockets: keep the peer address
}

function compressIPv6(groups: string[]): string {
  // IPv4-mapped (::ffff:a.b.c.d) is written the way it is usually matched.
  if (groups.slice(0, 5).every((g) => g === "0") && groups[5] === "ffff") {
    const hi = Number.parseInt(groups[6]!, 16);
    const lo = Number.parseInt(groups[7]!, 16);
    return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  // Longest run of zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

export function isIPv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

export function isIPv6(s: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(s) && s.includes(":") && s.split("::").length <= 2;
}

// ---- trusted proxies ---------------------------------------------------------------------------

export type TrustFn = (address: string) => boolean;

function ipv4ToInt(s: string): number {
  return s.split(".").reduce((acc, x) => acc * 256 + Number(x), 0);
}

/** "loopback", exact addresses and IPv4 CIDRs ("10.0.0.0/8"), comma separated. */
export function compileTrust(list: string): TrustFn {
  const exact = new Set<string>();
  const ranges: [number, number][] = [];
  for (const raw of list.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    if (item === "loopback") {
      ranges.push([ipv4ToInt("127.0.0.0"), 8]);
      exact.add("::1");
      continue;
    }
    const slash = item.indexOf("/");
    if (slash > 0) {
      const base = item.slice(0, slash);
      const bits = Number(item.slice(slash + 1));
      if (!isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) {
        throw new Error(`trust-proxy: "${item}" is not an IPv4 CIDR`);
      }
      ranges.push([ipv4ToInt(base), bits]);
      continue;
    }
    if (!isIPv4(item) && !isIPv6(item)) throw new Error(`trust-proxy: "${item}" is not an address`);
    exact.add(item.toLowerCase());
  }
  return (address: string) => {
    const a = address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
    if (exact.has(a.toLowerCase())) return true;
    if (!isIPv4(a)) return false;
    const v = ipv4ToInt(a);
    for (const [base, bits] of ranges) {
      // Same network: equal once the host bits are divided away (no 32-bit sign trouble).
      const size = 2 ** (32 - bits);
      if (Math.floor(v / size) === Math.floor(base / size)) return true;
    }
    return false;
  };
}

/**
 * The client's address: the peer, unless the peer is a trusted proxy; then the nearest address in
 * Forwarded (RFC 7239) or X-Forwarded-For that is not itself trusted, read from the right.
 */
export function clientAddress(peer: string, forwarded: string | undefined, xff: string | undefined, trust: TrustFn): string {
  if (!trust(peer)) return peer;
  let chain: string[] = [];
  if (forwarded !== undefined) {
    for (const element of forwarded.split(",")) {
      // for=192.0.2.43, for="192.0.2.43:47011", for="[2001:db8:cafe::17]:4711" (RFC 7239 §6)
      const m = /(?:^|;)\s*for=(?:"([^"]*)"|([^";,\s]+))/i.exec(element.trim());
      if (!m) continue;
      let node = (m[1] ?? m[2])!;
      if (node.startsWith("[")) node = node.slice(1, node.indexOf("]") > 0 ? node.indexOf("]") : undefined);
      else if (isIPv4(node.replace(/:\d+$/, ""))) node = node.replace(/:\d+$/, "");
      chain.push(node);
    }
  } else if (xff !== undefined) {
    chain = xff.split(",").map((x) => x.trim()).filter((x) => x !== "");
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!trust(chain[i]!)) return chain[i]!;
  }
  return chain[0] ?? peer;
}
