/**
 * Ethernet codec. On the hot path MAC addresses never become strings or objects: they are
 * two integers, `hi` (first 2 bytes, 0..0xffff) and `lo` (last 4 bytes, an UNSIGNED 32-bit
 * integer, 0..0xffffffff). Strings exist only on the cold path (commands, dumps).
 */

export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
/** Offset of the source MAC inside a frame. */
export const ETH_SRC = 6;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** Individual/Group bit: the low bit of the first octet, i.e. bit 8 of `hi`. */
const MAC_GROUP_BIT = 0x0100;

// HOT PATH
export function macHi(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

// HOT PATH
export function macLo(buf: Uint8Array, off: number): number {
  return ((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0;
}

/** Broadcast is a multicast address too (all ones, I/G bit set). */
// HOT PATH
export function isMulticastHi(hi: number): boolean {
  return (hi & MAC_GROUP_BIT) !== 0;
}

// HOT PATH
export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

// HOT PATH
function readI32(buf: Uint8Array, off: number): number {
  return (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
}

/** Offset (from the frame start) of the L3 header, past at most one 802.1Q/802.1ad tag. */
// HOT PATH
export function l3Offset(buf: Uint8Array, off: number, len: number): number {
  const t = readU16(buf, off + 12);
  return (t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ) && len >= ETH_HLEN + 4 ? ETH_HLEN + 4 : ETH_HLEN;
}

/** The payload's ethertype, looking through at most one VLAN tag. Needs len >= 14. */
// HOT PATH
export function etherType(buf: Uint8Array, off: number, len: number): number {
  return readU16(buf, off + l3Offset(buf, off, len) - 2);
}

// One murmur3 round: cheap, and good enough to spread flows over ECMP paths.
// HOT PATH
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

// HOT PATH
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h ^ (h >>> 16)) & 0xffff;
}

// HOT PATH
function hashIpv4(buf: Uint8Array, p: number, end: number): number {
  const ihl = (buf[p] & 0x0f) << 2;
  const proto = buf[p + 9];
  let h = mix(mix(mix(0x4, readI32(buf, p + 12)), readI32(buf, p + 16)), proto);
  // Fragments after the first carry no L4 header, and the first must hash like the rest.
  const fragment = ((buf[p + 6] & 0x3f) | buf[p + 7]) !== 0;
  if (!fragment && ihl >= 20 && (proto === IPPROTO_TCP || proto === IPPROTO_UDP) && p + ihl + 4 <= end) {
    h = mix(h, readI32(buf, p + ihl));
  }
  return h;
}

// HOT PATH
function hashIpv6(buf: Uint8Array, p: number, end: number): number {
  const next = buf[p + 6];
  let h = 0x6;
  for (let o = p + 8; o < p + 40; o += 4) h = mix(h, readI32(buf, o));
  h = mix(h, next);
  // Extension headers (fragment header included) are not walked: such flows hash on addresses.
  if ((next === IPPROTO_TCP || next === IPPROTO_UDP) && p + 44 <= end) h = mix(h, readI32(buf, p + 40));
  return h;
}

/**
 * A 16-bit hash of the inner flow for the outer UDP source port (RFC 7348 section 5):
 * IPv4/IPv6 addresses and protocol, plus TCP/UDP ports unless fragmented; other frames hash on
 * both MACs and the ethertype. Deterministic; reads only bytes [off, off+len). Needs len >= 14.
 */
// HOT PATH
export function flowHash(buf: Uint8Array, off: number, len: number): number {
  const l3 = l3Offset(buf, off, len);
  const type = readU16(buf, off + l3 - 2);
  const p = off + l3;
  const end = off + len;
  let h: number;
  if (type === ETHERTYPE_IPV4 && p + 20 <= end && buf[p] >> 4 === 4) h = hashIpv4(buf, p, end);
  else if (type === ETHERTYPE_IPV6 && p + 40 <= end && buf[p] >> 4 === 6) h = hashIpv6(buf, p, end);
  else h = mix(mix(mix(mix(0, readI32(buf, off)), readI32(buf, off + 4)), readI32(buf, off + 8)), type);
  return finish(h);
}

// COLD PATH: MAC text <-> integers.

const MAC_RE = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;

export interface MacWords {
  hi: number;
  lo: number;
}

/** "02:42:0a:00:00:05" (or with '-') -> { hi, lo }; undefined when not a MAC. */
export function parseMac(text: string): MacWords | undefined {
  const m = typeof text === 'string' ? MAC_RE.exec(text) : null;
  if (!m) return undefined;
  const b = m.slice(1).map((x) => parseInt(x, 16));
  return { hi: (b[0] << 8) | b[1], lo: ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0 };
}

/** Lower-case, colon-separated. */
export function formatMac(hi: number, lo: number): string {
  const bytes = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  return bytes.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function writeMac(buf: Uint8Array, off: number, hi: number, lo: number): void {
  buf[off] = hi >>> 8;
  buf[off + 1] = hi & 0xff;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = (lo >>> 16) & 0xff;
  buf[off + 4] = (lo >>> 8) & 0xff;
  buf[off + 5] = lo & 0xff;
}
