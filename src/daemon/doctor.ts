/**
 * `ovnetd doctor`: compares three views that should agree and reports every difference —
 * the store's (networks, hosts, endpoints), this host's devices, and the agent's data plane
 * (networks, peers, forwarding table). Pure: the caller gathers the views.
 */
import { bridgeName, tapName, parseDeviceName } from '../host/names.js';
import type { LinkInfo } from '../host/links.js';
import type { EndpointDoc, HostDoc, NetworkDoc } from '../control/documents.js';
import type { AgentStatus, FdbRow, PeerRow } from './agent-api.js';

export interface DoctorViews {
  store?: { networks: NetworkDoc[]; hosts: HostDoc[]; endpoints: EndpointDoc[] };
  links: LinkInfo[];
  agent: { status: AgentStatus; peers: PeerRow[]; fdb: FdbRow[] };
}

export interface Finding {
  /** Stable identifier of the kind of difference, for scripts. */
  kind: string;
  message: string;
}

export function diagnose(v: DoctorViews): Finding[] {
  const out: Finding[] = [];
  const add = (kind: string, message: string) => out.push({ kind, message });
  const st = v.agent.status;
  if (st.store.health === 'degraded') add('store-degraded', `the agent cannot reach the store ${st.store.url ?? ''} (degraded since ${st.store.since})`);
  const links = new Map(v.links.map((l) => [l.name, l]));
  const agentNets = new Map(st.networks.map((n) => [n.vni, n]));
  const wanted = v.store ? v.store.networks.map((n) => ({ name: n.name, vni: n.vni })) : st.networks.map((n) => ({ name: n.name, vni: n.vni }));
  for (const n of wanted) checkNetworkDevices(n, links, agentNets, add, !!v.store);
  const wantedVnis = new Set(wanted.map((n) => n.vni));
  for (const l of v.links) {
    const d = parseDeviceName(l.name);
    if (d && !wantedVnis.has(d.vni)) add('leftover-device', `${l.name} exists but no network has VNI ${d.vni}`);
  }
  if (v.store) {
    checkPeers(v.store.hosts, st, v.agent.peers, add);
    checkEndpoints(v.store, st, v.agent.fdb, add);
  }
  return out;
}

type Add = (kind: string, message: string) => void;

function checkNetworkDevices(n: { name: string; vni: number }, links: Map<string, LinkInfo>, agentNets: Map<number, AgentStatus['networks'][number]>, add: Add, fromStore: boolean): void {
  const br = links.get(bridgeName(n.vni));
  const tap = links.get(tapName(n.vni));
  const label = `network ${n.name} (VNI ${n.vni})`;
  if (fromStore && !agentNets.has(n.vni)) add('network-not-in-agent', `${label} is in the store but the agent does not forward it`);
  if (!br) add('missing-bridge', `${label}: bridge ${bridgeName(n.vni)} is missing`);
  else if (br.kind !== 'bridge') add('wrong-device', `${label}: ${br.name} is a ${br.kind ?? 'plain'} device, not a bridge`);
  else if (!br.up) add('device-down', `${label}: ${br.name} is down`);
  if (!tap) { add('missing-tap', `${label}: TAP ${tapName(n.vni)} is missing`); return; }
  if (tap.master !== bridgeName(n.vni)) add('tap-not-in-bridge', `${label}: ${tap.name} is not in ${bridgeName(n.vni)} (master: ${tap.master ?? 'none'})`);
  if (!tap.up) add('device-down', `${label}: ${tap.name} is down`);
  const mtu = agentNets.get(n.vni)?.mtu;
  if (mtu !== undefined && tap.mtu !== mtu) add('mtu-mismatch', `${label}: ${tap.name} has MTU ${tap.mtu}, the agent uses ${mtu}`);
  if (br && mtu !== undefined && br.mtu > mtu) add('mtu-mismatch', `${label}: ${br.name} has MTU ${br.mtu} > overlay MTU ${mtu} (a port with a larger MTU?)`);
}

function checkPeers(hosts: HostDoc[], st: AgentStatus, peers: PeerRow[], add: Add): void {
  if (!hosts.some((h) => h.id === st.hostId)) add('not-registered', `this host (${st.hostId}) is not registered in the store`);
  const byId = new Map(peers.map((p) => [p.id, p]));
  for (const h of hosts) {
    if (h.id === st.hostId) continue;
    const p = byId.get(h.id);
    if (!p) add('missing-peer', `host ${h.id} (${h.address}) is registered but the agent does not forward to it`);
    else if (p.address !== h.address || p.port !== h.port) add('peer-mismatch', `host ${h.id}: store says ${h.address}:${h.port}, the agent uses ${p.address}:${p.port}`);
  }
  const ids = new Set(hosts.map((h) => h.id));
  for (const p of peers) if (!ids.has(p.id)) add('stale-peer', `the agent forwards to ${p.id} (${p.address}), which is not registered`);
}

function checkEndpoints(store: NonNullable<DoctorViews['store']>, st: AgentStatus, fdb: FdbRow[], add: Add): void {
  const vniOf = new Map(store.networks.map((n) => [n.name, n.vni]));
  const addrOf = new Map(store.hosts.map((h) => [h.id, h.address]));
  const pinned = new Map(fdb.filter((r) => r.flags.includes('static')).map((r) => [`${r.vni}/${r.mac}`, r]));
  const expected = new Set<string>();
  for (const ep of store.endpoints) {
    const vni = vniOf.get(ep.network);
    if (vni === undefined || ep.host === st.hostId || !addrOf.has(ep.host)) continue;
    const key = `${vni}/${ep.mac}`;
    expected.add(key);
    const row = pinned.get(key);
    if (!row) add('missing-fdb-entry', `endpoint ${ep.ip} (${ep.mac}) on ${ep.host} has no pinned forwarding entry`);
    else if (row.dst !== addrOf.get(ep.host)) add('fdb-mismatch', `endpoint ${ep.mac} is pinned to ${row.dst}, its host is at ${addrOf.get(ep.host)}`);
  }
  for (const [key, row] of pinned) if (!expected.has(key)) add('stale-fdb-entry', `pinned entry ${row.mac} (VNI ${row.vni}) -> ${row.dst} has no endpoint in the store`);
}
