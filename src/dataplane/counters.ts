/**
 * Data-plane counters: Float64Array slots indexed by constants (exact integers up to 2^53, so
 * byte counts never wrap). Names are snake_case and become Prometheus metrics `ovnetd_<name>`
 * (per-network ones labelled with the VNI). Keep each NAMES array in index order.
 */

// Global counters. Drop reasons first: each one counts packets or frames thrown away.
/** Underlay datagram shorter than the 8-byte VXLAN header. */
export const G_TOO_SHORT = 0;
/** VXLAN I flag clear. */
export const G_BAD_FLAGS = 1;
/** VXLAN reserved bits or bytes set (an extension we do not speak; see vxlan.ts). */
export const G_RESERVED_BITS = 2;
export const G_UNKNOWN_VNI = 3;
/** Source address is not a configured peer. */
export const G_UNKNOWN_PEER = 4;
/** Known peer, but not a member of the datagram's VNI. */
export const G_PEER_NOT_MEMBER = 5;
/** Decapsulated frame shorter than an Ethernet header. */
export const G_INNER_TOO_SHORT = 6;
/** Frame read from a TAP shorter than an Ethernet header. */
export const G_TAP_TOO_SHORT = 7;
/** Frames the TAP refused (write returned fewer than asked). */
export const G_TAP_WRITE_FAILED = 8;
/** Datagrams the underlay refused (send returned fewer than asked). */
export const G_UNDERLAY_SEND_FAILED = 9;
// Events that drop nothing.
/** A new source could not be learned: the fdb was at capacity (the frame is still delivered). */
export const G_FDB_FULL = 10;
export const G_RX_DATAGRAMS = 11;
/** Decapsulated frame with a multicast source MAC: delivered, never learned. */
export const G_MULTICAST_SOURCE = 12;
export const G_FDB_LEARNED = 13;
/** A learned MAC showed up behind another peer. */
export const G_FDB_MOVED = 14;
/** Learning refused because the MAC is pinned to another peer. */
export const G_FDB_PINNED_CONFLICT = 15;
export const G_FDB_AGED = 16;
/** Learned entries evicted to make room for a pinned one. */
export const G_FDB_EVICTED = 17;
/** ARP requests answered locally, all networks (per network: arp_suppressed; metric ovnetd_suppressed_total). */
export const G_SUPPRESSED_ARP = 18;
/** IPv6 neighbour solicitations answered locally, all networks. */
export const G_SUPPRESSED_ND = 19;

export const GLOBAL_COUNTER_NAMES: readonly string[] = [
  'too_short', 'bad_flags', 'reserved_bits', 'unknown_vni', 'unknown_peer', 'peer_not_member',
  'inner_too_short', 'tap_too_short', 'tap_write_failed', 'underlay_send_failed',
  'fdb_full', 'rx_datagrams', 'multicast_source', 'fdb_learned', 'fdb_moved',
  'fdb_pinned_conflict', 'fdb_aged', 'fdb_evicted', 'suppressed_arp', 'suppressed_nd',
];
/** Global counters that count dropped packets (the first ones, up to G_FDB_FULL exclusive). */
export const DROP_COUNTER_NAMES: readonly string[] = GLOBAL_COUNTER_NAMES.slice(0, G_FDB_FULL);

// Per-network counters.
/** Frames received from peers and queued to the TAP. */
export const N_RX_FRAMES = 0;
export const N_RX_BYTES = 1;
/** Frames read from the TAP and forwarded (counted once however many copies went out). */
export const N_TX_FRAMES = 2;
export const N_TX_BYTES = 3;
/** TAP frames head-end replicated (broadcast, multicast, unknown unicast). */
export const N_FLOODED_FRAMES = 4;
/** TAP frames sent to the one peer the fdb named. */
export const N_UNICAST_FRAMES = 5;
/** Encapsulated datagrams queued to the underlay (copies included). */
export const N_TX_DATAGRAMS = 6;
/** Frames to flood when the network had no member peer. */
export const N_FLOOD_NO_PEERS = 7;
/** ARP requests for a known remote endpoint answered locally instead of flooded (neighbors.ts). */
export const N_ARP_SUPPRESSED = 8;
/** IPv6 neighbour solicitations answered locally instead of flooded (neighbors.ts). */
export const N_ND_SUPPRESSED = 9;

export const NETWORK_COUNTER_NAMES: readonly string[] = [
  'rx_frames', 'rx_bytes', 'tx_frames', 'tx_bytes', 'flooded_frames', 'unicast_frames',
  'tx_datagrams', 'flood_no_peers', 'arp_suppressed', 'nd_suppressed',
];
export const NETWORK_STRIDE = NETWORK_COUNTER_NAMES.length;

export class Counters {
  readonly global = new Float64Array(GLOBAL_COUNTER_NAMES.length);
  /** Network n's counter k is at n * NETWORK_STRIDE + k. */
  readonly net: Float64Array;

  constructor(maxNetworks: number) {
    this.net = new Float64Array(maxNetworks * NETWORK_STRIDE);
  }

  /** COLD PATH: a network index is reused, its counters start from zero. */
  resetNetwork(net: number): void {
    this.net.fill(0, net * NETWORK_STRIDE, (net + 1) * NETWORK_STRIDE);
  }

  globalRecord(): Record<string, number> {
    const out: Record<string, number> = {};
    GLOBAL_COUNTER_NAMES.forEach((name, i) => { out[name] = this.global[i]; });
    return out;
  }

  networkRecord(net: number): Record<string, number> {
    const out: Record<string, number> = {};
    NETWORK_COUNTER_NAMES.forEach((name, i) => { out[name] = this.net[net * NETWORK_STRIDE + i]; });
    return out;
  }
}
