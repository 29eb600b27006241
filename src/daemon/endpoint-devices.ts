/**
 * The devices of one endpoint (COLD PATH): the veth pair (host/veth.ts makes it), then, inside
 * the endpoint's namespace, its address and MAC.
 *
 * Announcing: the MAC is set LAST, after arp_notify / ndisc_notify are switched on for the
 * interface, so the kernel itself sends a gratuitous ARP (and an unsolicited neighbour
 * advertisement for IPv6) with the new MAC. Endpoints elsewhere that still cache an older MAC
 * for this address (the endpoint was re-created) update at once instead of after their
 * neighbour entry goes stale, tens of seconds later.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { OvnError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { ip } from '../host/iproute2.js';
import { getLink } from '../host/links.js';
import { bridgeName, validateIfName, validateNetnsName } from '../host/names.js';
import { createEndpointVeth, removeEndpointVeth } from '../host/veth.js';
import { describeTarget, type EndpointTarget } from './endpoint-records.js';

export const NETNS_RUN_DIR = '/var/run/netns';

export interface PlugSpec {
  vni: number;
  hostIf: string;
  peerIf: string;
  target: EndpointTarget;
  ifname: string;
  mtu: number;
  /** Address with prefix, "10.77.0.5/24". */
  cidr: string;
  family: 4 | 6;
  mac: string;
}

export function targetRef(t: EndpointTarget): string | number {
  return t.netns !== undefined ? t.netns : t.pid;
}

function nsPath(t: EndpointTarget): string {
  return t.netns !== undefined ? `${NETNS_RUN_DIR}/${t.netns}` : `/proc/${t.pid}/ns/net`;
}

/** Validates the target and checks it exists; throws OVN_ERR_INVALID / OVN_ERR_NOT_FOUND. */
export function checkTarget(t: EndpointTarget): void {
  if (t.netns !== undefined) validateNetnsName(t.netns);
  else if (!Number.isInteger(t.pid) || t.pid <= 0) throw new OvnError('OVN_ERR_INVALID', `pid ${String(t.pid)} is not a positive integer`);
  if (!existsSync(nsPath(t))) {
    const hint = t.netns !== undefined ? ' (see `ip netns list`)' : ' (no such process)';
    throw new OvnError('OVN_ERR_NOT_FOUND', `${describeTarget(t)} does not exist${hint}`);
  }
}

export async function bridgeMtu(vni: number): Promise<number> {
  const br = await getLink(bridgeName(vni));
  if (!br) throw new OvnError('OVN_ERR_NOT_FOUND', `bridge ${bridgeName(vni)} does not exist on this host`);
  return br.mtu;
}

/** Refuses (OVN_ERR_EXISTS) when `ifname` is already taken inside the target. */
export async function checkIfnameFree(t: EndpointTarget, ifname: string): Promise<void> {
  validateIfName(ifname);
  if (await getLink(ifname, { netns: targetRef(t) })) {
    throw new OvnError('OVN_ERR_EXISTS', `${describeTarget(t)} already has an interface named ${ifname} (choose another with --ifname)`);
  }
}

/** Makes the endpoint's devices; on failure removes what it made and rethrows. */
export async function plugEndpoint(s: PlugSpec, log: Logger): Promise<void> {
  const netns = targetRef(s.target);
  await createEndpointVeth({ vni: s.vni, hostIf: s.hostIf, peerIf: s.peerIf, targetNetns: netns, ifname: s.ifname, mtu: s.mtu });
  try {
    await enableNotify(s, log);
    // The overlay's addresses are unique by construction (IPAM), so duplicate detection would only delay IPv6.
    await ip(['addr', 'replace', s.cidr, 'dev', s.ifname, ...(s.family === 6 ? ['nodad'] : [])], { netns });
    await ip(['link', 'set', 'dev', s.ifname, 'address', s.mac], { netns });
  } catch (e) {
    await removeEndpointVeth({ hostIf: s.hostIf }).catch(() => undefined);
    throw e;
  }
}

/** Removes the pair through its host side; false when it was already gone. */
export async function unplugEndpoint(hostIf: string): Promise<boolean> {
  return removeEndpointVeth({ hostIf });
}

/** Best effort: without it the endpoint still works, only re-created MACs propagate slower. */
async function enableNotify(s: PlugSpec, log: Logger): Promise<void> {
  const key = s.family === 4 ? `net/ipv4/conf/${s.ifname}/arp_notify` : `net/ipv6/conf/${s.ifname}/ndisc_notify`;
  const argv = ['nsenter', `--net=${nsPath(s.target)}`, '--', 'sysctl', '-q', '-w', `${key}=1`];
  await new Promise<void>((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } }, (err, _out, stderr) => {
      if (err) log.warn({ target: describeTarget(s.target), key, err: String(stderr || err.message).trim() }, 'cannot enable address announcements');
      resolve();
    });
  });
}
