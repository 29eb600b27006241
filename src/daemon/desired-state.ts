/** What the control plane wants this host's data plane to look like; the reconciler makes it so. */
import type { NeighborEntry, PeerSpec, PinnedEntry } from '../dataplane/commands.js';

export interface DesiredNetwork {
  name: string;
  vni: number;
  subnet?: string;
  /** Overlay MTU; when absent the agent derives it from the underlay MTU. */
  mtu?: number;
}

export interface DesiredState {
  networks: DesiredNetwork[];
  peers: PeerSpec[];
  pinned: PinnedEntry[];
  /** Remote endpoints' addresses, answered locally (ARP/ND suppression). Absent: none. */
  neighbors?: NeighborEntry[];
}

export const EMPTY_STATE: DesiredState = { networks: [], peers: [], pinned: [] };

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Stable ordering so that equal states compare equal and commands come out in a fixed order. */
export function normalize(s: DesiredState): DesiredState {
  return {
    networks: [...s.networks].sort((a, b) => a.vni - b.vni),
    peers: [...s.peers].map((p) => ({ ...p, vnis: [...p.vnis].sort((a, b) => a - b) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    pinned: [...s.pinned].sort((a, b) => a.vni - b.vni || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0)),
    neighbors: [...(s.neighbors ?? [])].sort((a, b) => a.vni - b.vni || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0)),
  };
}

export function networkChanged(a: DesiredNetwork, b: DesiredNetwork): boolean {
  return !sameJson({ ...a, subnet: undefined }, { ...b, subnet: undefined });
}

export function peerChanged(a: PeerSpec, b: PeerSpec): boolean {
  return !sameJson(a, b);
}
