/**
 * Endpoint address management, the pure part (COLD PATH): which addresses of a network's subnet
 * an endpoint may take, the lowest free one, and the MAC derived from an address. Uniqueness
 * across the cluster is not decided here but by the store: control/endpoints.ts claims an
 * address with a create-only compare-and-set on its endpoint key, and this module only says
 * which address to try next.
 *
 * Reserved in every subnet, never handed out nor accepted with --ip:
 *   - the network address (IPv6: the subnet-router anycast address),
 *   - the first usable address, kept for a gateway (a router the operator may add later),
 *   - the last address (IPv4 broadcast; in IPv6 kept too, so both families behave alike and
 *     lib/ip.ts's "room for two endpoints" rule holds for both).
 *
 * MACs are locally administered and derived from the address, as Docker does (02:42 + the IPv4
 * address), so an endpoint's MAC is known from its address alone and a re-created endpoint at
 * the same address keeps its MAC. IPv6 uses 06:42 + the low 32 bits; two IPv6 addresses that
 * differ only above those bits would share a MAC, so the claim also treats a MAC in use as
 * taken (see control/endpoints.ts).
 */
import { OvnError } from '../lib/errors.js';
import { formatIp, parseIp, parseSubnet, type Family, type ParsedIp, type ParsedSubnet } from '../lib/ip.js';

export interface UsableRange {
  first: bigint;
  last: bigint;
}

/** Endpoint addresses of the subnet: after the network and gateway addresses, before the last. */
export function usableRange(s: ParsedSubnet): UsableRange {
  return { first: s.network + 2n, last: s.last - 1n };
}

/** The address reserved for a gateway (first usable address of the subnet). */
export function gatewayAddress(s: ParsedSubnet): string {
  return formatIp(s.network + 1n, s.family);
}

/** Why `ip` cannot be an endpoint address in `s` (network `name`), or undefined when it can. */
export function addressProblem(s: ParsedSubnet, ip: ParsedIp, name: string): string | undefined {
  if (ip.family !== s.family) return `${ip.address} is an IPv${ip.family} address but network "${name}" has the IPv${s.family} subnet ${s.cidr}`;
  if (ip.value < s.network || ip.value > s.last) return `${ip.address} is outside network "${name}"'s subnet ${s.cidr}`;
  if (ip.value === s.network) return `${ip.address} is the network address of ${s.cidr}`;
  if (ip.value === s.network + 1n) return `${ip.address} is reserved as the gateway address of ${s.cidr}`;
  if (ip.value === s.last) return `${ip.address} is the ${s.family === 4 ? 'broadcast' : 'last'} address of ${s.cidr} (reserved)`;
  return undefined;
}

/** Parses an explicit --ip and checks it against the subnet; throws OVN_ERR_INVALID. */
export function checkRequestedAddress(subnet: ParsedSubnet, text: string, network: string): ParsedIp {
  const ip = typeof text === 'string' ? parseIp(text.trim()) : undefined;
  if (!ip) throw new OvnError('OVN_ERR_INVALID', `${JSON.stringify(text)} is not an IP address`);
  const bad = addressProblem(subnet, ip, network);
  if (bad) throw new OvnError('OVN_ERR_INVALID', bad);
  return ip;
}

/**
 * The lowest usable address not in `used` and whose MAC is not in `usedMacs`; undefined when
 * the subnet is full. Work is bounded by the number of used addresses, whatever the subnet size.
 */
export function lowestFree(s: ParsedSubnet, used: ReadonlySet<bigint>, usedMacs: ReadonlySet<string> = new Set()): bigint | undefined {
  const { first, last } = usableRange(s);
  for (let v = first; v <= last; v++) {
    if (!used.has(v) && !usedMacs.has(endpointMac(v, s.family))) return v;
  }
  return undefined;
}

/** Number of endpoint addresses the subnet offers (capped for display). */
export function capacity(s: ParsedSubnet): bigint {
  const { first, last } = usableRange(s);
  return last >= first ? last - first + 1n : 0n;
}

/** "02:42:0a:4d:00:05" for 10.77.0.5; "06:42:" + low 32 bits for IPv6. */
export function endpointMac(value: bigint, family: Family): string {
  const low = Number(value & 0xffff_ffffn);
  const bytes = [family === 4 ? 0x02 : 0x06, 0x42, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** endpointMac of an address given as text; throws OVN_ERR_INVALID when it is not one. */
export function endpointMacOf(text: string): string {
  const ip = parseIp(text);
  if (!ip) throw new OvnError('OVN_ERR_INVALID', `${JSON.stringify(text)} is not an IP address`);
  return endpointMac(ip.value, ip.family);
}

/** Parses a network's subnet for IPAM, naming the network in the error. */
export function subnetOf(network: string, cidr: string | undefined): ParsedSubnet {
  if (!cidr) {
    throw new OvnError('OVN_ERR_INVALID', `network "${network}" has no subnet, so there are no addresses to give endpoints (configure "subnet" for it)`);
  }
  return parseSubnet(cidr);
}
