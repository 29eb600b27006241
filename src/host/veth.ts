/**
 * Endpoint veth pairs (COLD PATH): the host side is a port of ovbr-<VNI>, the peer lives in the
 * endpoint's namespace (a named netns or a container's pid) as e.g. eth0 with the endpoint's
 * MAC, address and the overlay MTU.
 *
 * The peer is created directly inside the target namespace under a temporary name, so it
 * never appears in the bridge's namespace and a half-made pair is recognisable by name; it is
 * renamed last. Idempotent: a complete pair is converged in place; a half-made one (host side
 * present, peer missing or still temporary) is deleted and made again. A pair this call made
 * is deleted if a later step fails (deleting one end deletes both).
 */
import { OvnError } from '../lib/errors.js';
import { parseIp } from '../lib/ip.js';
import { ip, type NetnsRef } from './iproute2.js';
import { deleteLinkIfExists, disableAddrGen, getLink, linkChanges, requireKind, setLink, validateMtu, type DeviceOptions, type LinkInfo } from './links.js';
import { bridgeName, validateIfName, validateNetnsName, validateVni } from './names.js';

export interface EndpointVethSpec extends DeviceOptions {
  vni: number;
  /** Host-side name, a port of ovbr-<VNI> (see endpointVethNames). */
  hostIf: string;
  /** Temporary name of the peer inside the target namespace until it is renamed to `ifname`. */
  peerIf: string;
  /** The endpoint's namespace: a name under /var/run/netns or a pid of a process inside it. */
  targetNetns: NetnsRef;
  /** The peer's final name in the target, e.g. "eth0". */
  ifname: string;
  /** "02:42:0a:4d:00:05"; default: the kernel's random one. */
  mac?: string;
  /** Address with prefix, e.g. "10.77.0.5/24" or "fd77::5/64". */
  address?: string;
  mtu: number;
}

export interface EndpointVethResult {
  hostIf: string;
  ifname: string;
  /** Whether this call created the pair (false: an existing pair was converged). */
  created: boolean;
}

export async function createEndpointVeth(spec: EndpointVethSpec): Promise<EndpointVethResult> {
  validateSpec(spec);
  const bridge = await getLink(bridgeName(spec.vni), spec);
  if (!bridge) throw new OvnError('OVN_ERR_NOT_FOUND', `bridge ${bridgeName(spec.vni)} does not exist (create the network first)`);
  requireKind(bridge, 'bridge', 'a bridge');
  const target = { netns: spec.targetNetns };
  const host = await getLink(spec.hostIf, spec);
  if (host) {
    requireKind(host, 'veth', 'a veth');
    const peer = await getLink(spec.ifname, target);
    if (peer && isPair(host, peer)) {
      await converge(spec);
      return { hostIf: spec.hostIf, ifname: spec.ifname, created: false };
    }
    await deleteLinkIfExists(spec.hostIf, spec);
  }
  await makePair(spec);
  try {
    await converge(spec);
  } catch (e) {
    await deleteLinkIfExists(spec.hostIf, spec).catch(() => undefined);
    throw e;
  }
  return { hostIf: spec.hostIf, ifname: spec.ifname, created: true };
}

/** Deletes the pair through its host side; false when it did not exist. */
export async function removeEndpointVeth(spec: { hostIf: string } & DeviceOptions): Promise<boolean> {
  const host = await getLink(spec.hostIf, spec);
  if (!host) return false;
  requireKind(host, 'veth', 'a veth');
  return deleteLinkIfExists(spec.hostIf, spec);
}

function validateSpec(spec: EndpointVethSpec): void {
  validateVni(spec.vni);
  validateIfName(spec.hostIf);
  validateIfName(spec.peerIf);
  validateIfName(spec.ifname);
  validateMtu(spec.mtu);
  if (typeof spec.targetNetns === 'string') validateNetnsName(spec.targetNetns);
  else if (!Number.isInteger(spec.targetNetns) || spec.targetNetns <= 0) {
    throw new OvnError('OVN_ERR_INVALID', `target netns pid ${String(spec.targetNetns)} is not a positive integer`);
  }
  if (spec.mac !== undefined && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(spec.mac)) {
    throw new OvnError('OVN_ERR_INVALID', `MAC "${spec.mac}" is not six colon-separated hex bytes`);
  }
  if (spec.mac !== undefined && (parseInt(spec.mac.slice(0, 2), 16) & 1) === 1) {
    throw new OvnError('OVN_ERR_INVALID', `MAC "${spec.mac}" is a multicast address`);
  }
  if (spec.address !== undefined) parseCidr(spec.address);
}

function parseCidr(text: string): void {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const addr = m ? parseIp(m[1]) : undefined;
  if (!m || !addr || Number(m[2]) > (addr.family === 4 ? 32 : 128)) {
    throw new OvnError('OVN_ERR_INVALID', `"${text}" is not ADDRESS/PREFIX (e.g. 10.77.0.5/24)`);
  }
}

/** Each end names the other's ifindex (link_index); together the two are one pair. */
function isPair(host: LinkInfo, peer: LinkInfo): boolean {
  return peer.kind === 'veth' && host.peerIfindex === peer.ifindex && peer.peerIfindex === host.ifindex;
}

async function makePair(spec: EndpointVethSpec): Promise<void> {
  const target = { netns: spec.targetNetns };
  const existing = await getLink(spec.ifname, target);
  if (existing) {
    throw new OvnError('OVN_ERR_EXISTS', `${spec.ifname} already exists in the endpoint's namespace (${String(spec.targetNetns)})`);
  }
  // A temporary peer left by an interrupted attempt whose host side is gone cannot exist
  // (veth ends die together), so the temporary name is free unless something else holds it.
  const mtu = String(spec.mtu);
  const peerMac = spec.mac === undefined ? [] : ['address', spec.mac];
  await ip(['link', 'add', 'name', spec.hostIf, 'mtu', mtu, 'type', 'veth',
    'peer', 'name', spec.peerIf, 'mtu', mtu, ...peerMac, 'netns', String(spec.targetNetns)], spec);
  try {
    await setLink(spec.peerIf, ['name', spec.ifname], target);
  } catch (e) {
    await deleteLinkIfExists(spec.hostIf, spec).catch(() => undefined);
    throw e;
  }
}

/** Host side: a port of the bridge, MTU, up. Peer: MAC, MTU, address, up. */
async function converge(spec: EndpointVethSpec): Promise<void> {
  const host = await getLink(spec.hostIf, spec);
  if (!host) throw new OvnError('OVN_ERR_DEVICE', `${spec.hostIf} vanished while being configured`);
  await disableAddrGen(host, spec);
  await setLink(spec.hostIf, linkChanges(host, { master: bridgeName(spec.vni), mtu: spec.mtu, up: true }), spec);
  const target = { netns: spec.targetNetns };
  const peer = await getLink(spec.ifname, target);
  if (!peer) throw new OvnError('OVN_ERR_DEVICE', `${spec.ifname} vanished from the endpoint's namespace while being configured`);
  const attrs = spec.mac !== undefined && peer.mac?.toLowerCase() !== spec.mac.toLowerCase() ? ['address', spec.mac] : [];
  await setLink(spec.ifname, [...attrs, ...linkChanges(peer, { mtu: spec.mtu })], target);
  if (spec.address !== undefined) await ip(['addr', 'replace', spec.address, 'dev', spec.ifname], target);
  await setLink(spec.ifname, linkChanges(peer, { up: true }), target);
}
