/**
 * Reading and changing links, whatever their kind (COLD PATH). Reads use `ip -j -d link show`,
 * which gives the kind (info_kind), the bridge a port belongs to (master) and a veth's peer
 * ifindex (link_index).
 */
import { OvnError } from '../lib/errors.js';
import { ip, ipJson, isIprouteError, type IpOptions } from './iproute2.js';
import { validateIfName } from './names.js';

/** Options of every device operation: where to act. */
export interface DeviceOptions {
  /** Named network namespace to act in (tests, labs); default: the agent's own. */
  netns?: string;
}

export interface LinkInfo {
  ifindex: number;
  name: string;
  mtu: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** rtnl kind: "bridge", "tun", "veth", ...; undefined for kind-less devices (lo, physical NICs). */
  kind?: string;
  /** The bridge (or bond) this link is a port of. */
  master?: string;
  mac?: string;
  /** veth: the peer's ifindex (in the peer's namespace). */
  peerIfindex?: number;
  /** IPv6 address generation ("eui64", "none", ...); undefined when IPv6 is disabled. */
  addrGenMode?: string;
}

interface RawLink {
  ifindex?: unknown; ifname?: unknown; mtu?: unknown; flags?: unknown; master?: unknown; address?: unknown;
  link_index?: unknown; inet6_addr_gen_mode?: unknown; linkinfo?: { info_kind?: unknown };
}

function toLinkInfo(raw: RawLink): LinkInfo {
  if (typeof raw.ifname !== 'string' || typeof raw.ifindex !== 'number' || typeof raw.mtu !== 'number') {
    throw new OvnError('OVN_ERR_IPROUTE', `unexpected "ip -j link" entry: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  const link: LinkInfo = {
    ifindex: raw.ifindex, name: raw.ifname, mtu: raw.mtu,
    up: Array.isArray(raw.flags) && raw.flags.includes('UP'),
  };
  if (typeof raw.linkinfo?.info_kind === 'string') link.kind = raw.linkinfo.info_kind;
  if (typeof raw.master === 'string') link.master = raw.master;
  if (typeof raw.address === 'string') link.mac = raw.address;
  if (typeof raw.link_index === 'number') link.peerIfindex = raw.link_index;
  if (typeof raw.inet6_addr_gen_mode === 'string') link.addrGenMode = raw.inet6_addr_gen_mode;
  return link;
}

/** The link named `name`, or undefined when there is none. */
export async function getLink(name: string, opts: IpOptions = {}): Promise<LinkInfo | undefined> {
  validateIfName(name);
  try {
    const raw = await ipJson<RawLink[]>(['-d', 'link', 'show', 'dev', name], opts);
    return raw.length > 0 ? toLinkInfo(raw[0]) : undefined;
  } catch (e) {
    if (isIprouteError(e, 'not-found')) return undefined;
    throw e;
  }
}

/** All links, or only the ports of bridge `master`. */
export async function listLinks(opts: IpOptions & { master?: string } = {}): Promise<LinkInfo[]> {
  const filter = opts.master === undefined ? [] : ['master', validateIfName(opts.master)];
  const raw = await ipJson<RawLink[]>(['-d', 'link', 'show', ...filter], opts);
  return raw.map(toLinkInfo);
}

/** Deletes `name` if it exists; true when this call deleted it. A veth takes its peer with it. */
export async function deleteLinkIfExists(name: string, opts: IpOptions = {}): Promise<boolean> {
  validateIfName(name);
  try {
    await ip(['link', 'del', 'dev', name], opts);
    return true;
  } catch (e) {
    if (isIprouteError(e, 'not-found')) return false;
    throw e;
  }
}

/** `ip link set dev NAME ATTRS...` when there is something to set. */
export async function setLink(name: string, attrs: readonly string[], opts: IpOptions = {}): Promise<void> {
  if (attrs.length === 0) return;
  await ip(['link', 'set', 'dev', validateIfName(name), ...attrs], opts);
}

/**
 * Stops the kernel giving the link an IPv6 link-local address. The overlay's bridge and ports
 * are layer-2 plumbing: an address would make the host send DAD and router solicitations into
 * every tenant network. Must run before the link first goes up; skipped where IPv6 is off.
 */
export async function disableAddrGen(link: LinkInfo, opts: IpOptions = {}): Promise<boolean> {
  if (link.addrGenMode === undefined || link.addrGenMode === 'none') return false;
  await setLink(link.name, ['addrgenmode', 'none'], opts);
  return true;
}

/** The attributes that differ from the wanted MTU / master / up state, as `ip link set` words. */
export function linkChanges(link: LinkInfo, want: { mtu?: number; master?: string; up?: boolean }): string[] {
  const attrs: string[] = [];
  if (want.master !== undefined && link.master !== want.master) attrs.push('master', want.master);
  if (want.mtu !== undefined && link.mtu !== want.mtu) attrs.push('mtu', String(want.mtu));
  if (want.up === true && !link.up) attrs.push('up');
  return attrs;
}

/** Throws OVN_ERR_DEVICE when `link` is not of `kind` (a name of ours held by something else). */
export function requireKind(link: LinkInfo, kind: string, what: string): void {
  if (link.kind === kind) return;
  throw new OvnError('OVN_ERR_DEVICE',
    `${link.name} exists but is ${link.kind ? `a ${link.kind} device` : 'a device without a kind'}, not ${what}; ` +
    `remove it (ip link del ${link.name}) or free the name`);
}

/** Overlay devices carry Ethernet: 68 is the IPv4 minimum, 65535 the bridge maximum. */
export function validateMtu(mtu: number): number {
  if (Number.isInteger(mtu) && mtu >= 68 && mtu <= 65_535) return mtu;
  throw new OvnError('OVN_ERR_INVALID', `MTU ${String(mtu)} is not an integer in 68..65535`);
}
