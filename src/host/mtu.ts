/**
 * Underlay addresses and MTUs (COLD PATH). A VXLAN frame adds, around the inner Ethernet frame
 * (14-byte header, counted because the overlay MTU is the inner IP MTU):
 *   IPv4 underlay: 20 IP + 8 UDP + 8 VXLAN + 14 inner Ethernet = 50
 *   IPv6 underlay: 40 IP + 8 UDP + 8 VXLAN + 14 inner Ethernet = 70
 * so an overlay MTU of underlay - 50 (or - 70) never makes the underlay fragment.
 */
import { OvnError } from '../lib/errors.js';
import { parseIp, type Family } from '../lib/ip.js';
import { ipJson } from './iproute2.js';
import { type DeviceOptions } from './links.js';
import { validateIfName } from './names.js';

export const VXLAN_OVERHEAD: Readonly<Record<Family, number>> = { 4: 50, 6: 70 };
const MIN_OVERLAY_MTU = 68;

export function overlayMtu(underlayMtu: number, family: Family): number {
  if (family !== 4 && family !== 6) throw new OvnError('OVN_ERR_INVALID', `address family ${String(family)} is not 4 or 6`);
  if (!Number.isInteger(underlayMtu) || underlayMtu <= 0) {
    throw new OvnError('OVN_ERR_INVALID', `underlay MTU ${String(underlayMtu)} is not a positive integer`);
  }
  const mtu = underlayMtu - VXLAN_OVERHEAD[family];
  if (mtu < MIN_OVERLAY_MTU) {
    throw new OvnError('OVN_ERR_INVALID',
      `underlay MTU ${underlayMtu} is too small for VXLAN over IPv${family} (needs at least ${MIN_OVERLAY_MTU + VXLAN_OVERHEAD[family]})`);
  }
  return mtu;
}

interface RawAddr { family?: unknown; local?: unknown; prefixlen?: unknown; scope?: unknown; tentative?: unknown; deprecated?: unknown; dadfailed?: unknown }
interface RawAddrLink { ifname?: unknown; mtu?: unknown; addr_info?: RawAddr[] }

export interface InterfaceAddress {
  ifname: string;
  mtu: number;
  family: Family;
  /** Canonical text (RFC 5952 for IPv6). */
  address: string;
  prefixlen: number;
  scope: string;
  /** IPv6 DAD not finished (tentative), failed, or the address is deprecated: avoid if possible. */
  usable: boolean;
}

/** Every address of every interface (or of `ifname`), flattened. */
export async function listAddresses(opts: DeviceOptions & { ifname?: string } = {}): Promise<InterfaceAddress[]> {
  const dev = opts.ifname === undefined ? [] : ['dev', validateIfName(opts.ifname)];
  const links = await ipJson<RawAddrLink[]>(['addr', 'show', ...dev], opts);
  const out: InterfaceAddress[] = [];
  for (const link of links) {
    if (typeof link.ifname !== 'string' || typeof link.mtu !== 'number') continue;
    for (const a of link.addr_info ?? []) {
      const parsed = typeof a.local === 'string' ? parseIp(a.local) : undefined;
      if (!parsed || a.dadfailed === true) continue;
      out.push({
        ifname: link.ifname, mtu: link.mtu, family: parsed.family, address: parsed.address,
        prefixlen: typeof a.prefixlen === 'number' ? a.prefixlen : parsed.family === 4 ? 32 : 128,
        scope: typeof a.scope === 'string' ? a.scope : 'global',
        usable: a.tentative !== true && a.deprecated !== true,
      });
    }
  }
  return out;
}

/** The interface holding local address `address`; OVN_ERR_NOT_FOUND when none does. */
export async function interfaceOfAddress(address: string, opts: DeviceOptions = {}): Promise<InterfaceAddress> {
  const want = parseIp(address);
  if (!want) throw new OvnError('OVN_ERR_INVALID', `"${address}" is not an IP address`);
  const all = await listAddresses(opts);
  const hit = all.find((a) => a.family === want.family && a.address === want.address);
  if (hit) return hit;
  const here = all.filter((a) => a.scope === 'global').map((a) => `${a.address} (${a.ifname})`).join(', ') || 'none';
  throw new OvnError('OVN_ERR_NOT_FOUND', `no interface of this host holds ${want.address} (global addresses here: ${here})`);
}

/** MTU of the interface holding `address`: the underlay MTU when that is the advertise address. */
export async function underlayMtuFor(address: string, opts: DeviceOptions = {}): Promise<number> {
  return (await interfaceOfAddress(address, opts)).mtu;
}

/**
 * The first global address of `ifname` (for --advertise-interface), of `family` if given.
 * Addresses still in DAD or deprecated are used only when there is nothing better.
 */
export async function addressOfInterface(ifname: string, opts: DeviceOptions & { family?: Family } = {}): Promise<string> {
  validateIfName(ifname);
  const linkNames = (await ipJson<RawAddrLink[]>(['link', 'show'], opts)).map((l) => String(l.ifname));
  if (!linkNames.includes(ifname)) {
    throw new OvnError('OVN_ERR_NOT_FOUND', `interface ${ifname} does not exist (interfaces here: ${linkNames.join(', ') || 'none'})`);
  }
  const candidates = (await listAddresses({ ...opts, ifname }))
    .filter((a) => a.scope === 'global' && (opts.family === undefined || a.family === opts.family));
  const best = candidates.find((a) => a.usable) ?? candidates[0];
  if (best) return best.address;
  const fam = opts.family === undefined ? '' : `IPv${opts.family} `;
  throw new OvnError('OVN_ERR_NOT_FOUND', `interface ${ifname} has no global ${fam}address (give the address with --advertise instead)`);
}
