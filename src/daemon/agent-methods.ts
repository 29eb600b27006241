/** Control-socket methods of a running agent: status, peers, fdb. */
import { OvnError } from '../lib/errors.js';
import { bridgeName, tapName } from '../host/names.js';
import type { ControlServer } from './control-socket.js';
import { registerEndpointMethods } from './endpoints.js';
import type { Agent } from './agent.js';
import type { AgentStatus, FdbRow, PeerRow } from './agent-api.js';

export function registerAgentMethods(server: ControlServer, agent: Agent): void {
  server
    .handle('status', () => status(agent))
    .handle('peers', () => peers(agent))
    .handle('fdb', (p) => fdb(agent, typeof p.network === 'string' ? p.network : undefined));
  registerEndpointMethods(server, agent);
}

export function status(agent: Agent): AgentStatus {
  const c = agent.dataplane.counters();
  const byVni = new Map(c.networks.map((n) => [n.vni, n]));
  const u = agent.underlayInfo;
  return {
    version: agentVersion(),
    pid: process.pid,
    hostId: agent.hostId,
    uptimeSeconds: (Date.now() - agent.started) / 1000,
    underlay: { address: u.address, listen: u.listen, port: u.port, mtu: u.mtu, sourcePorts: agent.underlay.sourcePorts() },
    store: storeStatus(agent),
    networks: agent.reconciler.networks().map((n) => ({
      name: n.net.name, vni: n.net.vni, subnet: n.net.subnet, bridge: bridgeName(n.net.vni), tap: tapName(n.net.vni), mtu: n.mtu,
      counters: pickNumbers(byVni.get(n.net.vni)),
    })),
    peers: agent.dataplane.snapshot().peers.length,
    fdb: { size: c.fdbSize, capacity: c.fdbCapacity },
    counters: c.global,
    ports: { underlay: agent.underlay.stats() },
  };
}

function storeStatus(agent: Agent): AgentStatus['store'] {
  if (!agent.cluster) return { health: 'static', watchErrors: 0, corruptEntries: 0 };
  const h = agent.cluster.healthReport();
  return { url: agent.cfg.store, health: h.health, since: h.since, watchErrors: h.watchErrors, corruptEntries: h.corruptEntries };
}

function pickNumbers(o: object | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o ?? {})) if (typeof v === 'number' && k !== 'vni') out[k] = v;
  return out;
}

function peers(agent: Agent): PeerRow[] {
  return agent.dataplane.snapshot().peers.map((p) => ({ id: p.id, address: p.address, port: p.port, vnis: p.vnis }));
}

function fdb(agent: Agent, network: string | undefined): FdbRow[] {
  let vni: number | undefined;
  if (network !== undefined) {
    const n = agent.reconciler.networks().find((x) => x.net.name === network);
    if (!n) throw new OvnError('OVN_ERR_NOT_FOUND', `no network named "${network}" on this host`);
    vni = n.net.vni;
  }
  return agent.dataplane.fdbDump(vni).map((e) => ({
    mac: e.mac, vni: e.vni, peer: e.peerId, dst: e.peerAddress, flags: e.pinned ? ['static'] : [], age: Math.round(e.ageSeconds),
  }));
}

export function agentVersion(): string {
  return process.env.npm_package_version ?? '0.1.0';
}
