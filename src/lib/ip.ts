/** Address and subnet parsing for configuration and the CLI (cold path; ip-address does the grammar). */
import { Address4, Address6 } from 'ip-address';
import { OvnError } from './errors.js';

export type Family = 4 | 6;

export interface ParsedIp {
  family: Family;
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6. */
  address: string;
  value: bigint;
}

export function parseIp(text: string): ParsedIp | undefined {
  if (typeof text !== 'string' || text.includes('/')) return undefined;
  if (Address4.isValid(text)) {
    const a = new Address4(text);
    return { family: 4, address: a.correctForm(), value: a.bigInt() };
  }
  if (Address6.isValid(text) && !text.includes('%')) {
    const a = new Address6(text);
    return { family: 6, address: a.correctForm(), value: a.bigInt() };
  }
  return undefined;
}

export interface ParsedSubnet {
  family: Family;
  /** Canonical "network/prefix". */
  cidr: string;
  prefix: number;
  network: bigint;
  /** Last address of the subnet. */
  last: bigint;
}

/**
 * Accepts only a network address with its prefix ("10.0.0.0/24"), refusing host bits set and
 * prefixes that leave no room for endpoints after network, broadcast and gateway addresses.
 * Throws OVN_ERR_INVALID with a message that says what is wrong.
 */
export function parseSubnet(text: string): ParsedSubnet {
  const m = typeof text === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(text) : null;
  if (!m) throw new OvnError('OVN_ERR_INVALID', `"${text}" is not a CIDR (expected ADDRESS/PREFIX, e.g. 10.77.0.0/24)`);
  const ip = parseIp(m[1]);
  if (!ip) throw new OvnError('OVN_ERR_INVALID', `"${text}": "${m[1]}" is not an IP address`);
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = Number(m[2]);
  if (prefix > bits) throw new OvnError('OVN_ERR_INVALID', `"${text}": prefix /${prefix} is longer than ${bits} bits`);
  const hostBits = BigInt(bits - prefix);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << hostBits) - 1n);
  const network = ip.value & mask;
  if (network !== ip.value) {
    const fixed = formatIp(network, ip.family);
    throw new OvnError('OVN_ERR_INVALID', `"${text}" has host bits set (did you mean ${fixed}/${prefix}?)`);
  }
  // Network, broadcast (IPv4) / subnet-router anycast (IPv6) and the reserved gateway leave
  // a /30 (v4) or /126 (v6) with one usable endpoint address: require at least two.
  const maxPrefix = ip.family === 4 ? 29 : 125;
  if (prefix > maxPrefix) {
    throw new OvnError('OVN_ERR_INVALID', `"${text}": a /${prefix} leaves no room for endpoints (use /${maxPrefix} or shorter)`);
  }
  return { family: ip.family, cidr: `${formatIp(network, ip.family)}/${prefix}`, prefix, network, last: network | ((1n << hostBits) - 1n) };
}

export function formatIp(value: bigint, family: Family): string {
  return family === 4 ? Address4.fromBigInt(value).correctForm() : Address6.fromBigInt(value).correctForm();
}

export function subnetsOverlap(a: ParsedSubnet, b: ParsedSubnet): boolean {
  return a.family === b.family && a.network <= b.last && b.network <= a.last;
}

export function subnetContains(s: ParsedSubnet, ip: ParsedIp): boolean {
  return s.family === ip.family && ip.value >= s.network && ip.value <= s.last;
}
