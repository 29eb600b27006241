/**
 * The only channel from the control plane into the data plane (after libnetwork's
 * peerOperation queue): plain, serialisable messages applied in order by Dataplane.apply.
 * The first command is always a full snapshot; later ones are deltas. Being messages, they
 * can later be posted to worker threads without a redesign.
 */

export interface NetworkSpec {
  vni: number;
  name: string;
  /** TAP device that carries this network's frames (host/ creates it before the command). */
  tapName: string;
}

export interface PeerSpec {
  /** Stable host id from the control plane (or the address for static peers). */
  id: string;
  address: string;
  port: number;
  /** VNIs this peer takes part in: frames of other VNIs are never sent to it nor accepted from it. */
  vnis: number[];
}

export interface PinnedEntry {
  vni: number;
  /** "02:42:0a:00:00:05" */
  mac: string;
  peerId: string;
}

/** A remote endpoint's address: ARP requests / neighbour solicitations for it are answered locally. */
export interface NeighborEntry {
  vni: number;
  /** IPv4 or IPv6 address ("10.77.0.5", "fd77::5"). */
  ip: string;
  /** Its unicast MAC, "02:42:0a:4d:00:05". */
  mac: string;
}

export type DataplaneCommand =
  /** `neighbors` replaces the whole neighbour table (absent: empty). */
  | { kind: 'snapshot'; networks: NetworkSpec[]; peers: PeerSpec[]; pinned: PinnedEntry[]; neighbors?: NeighborEntry[] }
  | { kind: 'network-add'; network: NetworkSpec }
  | { kind: 'network-remove'; vni: number }
  /** Adds or replaces a peer; when its VNI set shrinks, what was learned from it there is flushed. */
  | { kind: 'peer-set'; peer: PeerSpec }
  /** Removes a peer: it is no longer flooded to, and every entry learned from it is flushed. */
  | { kind: 'peer-remove'; id: string }
  | { kind: 'fdb-pin'; entry: PinnedEntry }
  | { kind: 'fdb-unpin'; vni: number; mac: string }
  /** Adds or replaces the MAC answered for (vni, ip); the network must be present. */
  | { kind: 'neigh-set'; entry: NeighborEntry }
  | { kind: 'neigh-remove'; vni: number; ip: string };
