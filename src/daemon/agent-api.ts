/** Shapes the agent's control socket returns; shared by the daemon and the CLI. */
export { DROP_COUNTER_NAMES } from '../dataplane/counters.js';

export interface NetworkStatus {
  name: string;
  vni: number;
  subnet?: string;
  bridge: string;
  tap: string;
  mtu: number;
  counters: Record<string, number>;
}

export interface AgentStatus {
  version: string;
  pid: number;
  hostId: string;
  uptimeSeconds: number;
  underlay: { address: string; listen: string; port: number; mtu: number; sourcePorts: number[] };
  store: { url?: string; health: 'ok' | 'degraded' | 'static'; since?: string; watchErrors: number; corruptEntries: number };
  networks: NetworkStatus[];
  peers: number;
  fdb: { size: number; capacity: number };
  counters: Record<string, number>;
  ports: Record<string, unknown>;
}

export interface PeerRow {
  id: string;
  address: string;
  port: number;
  vnis: number[];
}

/** Close to `bridge -j fdb show`: mac, dst (peer address), vni, flags, age. */
export interface FdbRow {
  mac: string;
  vni: number;
  peer: string;
  dst: string;
  flags: string[];
  age: number;
}
