/**
 * The per-packet engine: TAP frames -> VXLAN datagrams to peers, peer datagrams -> TAP frames.
 * Everything here runs once per batch and loops per packet without allocating, hashing strings,
 * throwing or logging. State it reads (fdb, peers, membership, networks) is changed only by the
 * Dataplane between batches.
 *
 * Encapsulation is in place: the 8-byte header is written into the headroom right before the
 * frame, and every copy of a flooded frame is a PacketList entry pointing at the same bytes.
 * Frames from the underlay are never sent back to the underlay (split horizon: no loops).
 *
 * Offloads change nothing here but the bookkeeping: a TAP frame may be a 64 KB TCP super-frame
 * (its virtio_net_hdr index rides along in the send list, and the underlay port segments it),
 * and one underlay slot may hold several datagrams (batch.off). The decision is still made once
 * per TAP frame and once per datagram, over the same tables.
 */
import type { Clock } from '../lib/clock.js';
import {
  Counters, G_BAD_FLAGS, G_FDB_FULL, G_FDB_LEARNED, G_FDB_MOVED, G_FDB_PINNED_CONFLICT, G_INNER_TOO_SHORT,
  G_MULTICAST_SOURCE, G_PEER_NOT_MEMBER, G_RESERVED_BITS, G_RX_DATAGRAMS, G_TAP_TOO_SHORT, G_TAP_WRITE_FAILED,
  G_TOO_SHORT, G_UNDERLAY_SEND_FAILED, G_UNKNOWN_PEER, G_UNKNOWN_VNI, N_FLOOD_NO_PEERS, N_FLOODED_FRAMES,
  N_RX_BYTES, N_RX_FRAMES, N_TX_BYTES, N_TX_DATAGRAMS, N_TX_FRAMES, N_UNICAST_FRAMES, NETWORK_STRIDE,
} from './counters.js';
import { ETH_HLEN, ETH_SRC, flowHash, macHi, macLo } from './ethernet.js';
import { Fdb, LEARN_FULL, LEARN_MOVED, LEARN_NEW, LEARN_PINNED } from './fdb.js';
import type { Membership } from './membership.js';
import type { NeighborResponder } from './neighbors.js';
import type { NetworkTable } from './networks.js';
import type { PeerTable } from './peers.js';
import { HEADROOM, PacketList, type PacketBatch, type TapPort, type UnderlayPort } from './ports.js';
import { decodeVxlan, VXLAN_BAD_FLAGS, VXLAN_HLEN, VXLAN_TOO_SHORT, writeVxlanHeader } from './vxlan.js';

export interface ForwarderParts {
  fdb: Fdb;
  peers: PeerTable;
  members: Membership;
  networks: NetworkTable;
  counters: Counters;
  underlay: UnderlayPort;
  clock: Clock;
  /** Entries per TAP write list (one per received datagram at most: the receive batch size). */
  batchSize: number;
  /** Entries per TAP write list when a receive batch holds more datagrams than slots (UDP GRO). */
  tapListSize?: number;
  /** Entries per underlay send list; it is flushed whenever it fills. */
  sendListSize?: number;
  /** Answers ARP/ND for known remote endpoints instead of flooding (neighbors.ts). */
  neighbors?: NeighborResponder;
}

export class Forwarder {
  readonly #fdb: Fdb;
  readonly #peers: PeerTable;
  readonly #members: Membership;
  readonly #nets: NetworkTable;
  readonly #global: Float64Array;
  readonly #net: Float64Array;
  readonly #underlay: UnderlayPort;
  readonly #clock: Clock;
  readonly #tapListSize: number;
  readonly #send: PacketList;
  readonly #taps: (TapPort | null)[];
  readonly #tapLists: (PacketList | null)[];
  readonly #neigh: NeighborResponder | null;
  /** Networks whose TAP list has entries in the current underlay batch. */
  readonly #touched: Int32Array;
  #touchedCount = 0;

  constructor(p: ForwarderParts) {
    this.#fdb = p.fdb;
    this.#peers = p.peers;
    this.#members = p.members;
    this.#nets = p.networks;
    this.#global = p.counters.global;
    this.#net = p.counters.net;
    this.#underlay = p.underlay;
    this.#clock = p.clock;
    this.#tapListSize = Math.max(p.batchSize, p.tapListSize ?? 0);
    this.#send = new PacketList(p.sendListSize ?? Math.max(256, p.batchSize * 4));
    this.#neigh = p.neighbors ?? null;
    const n = p.networks.maxNetworks;
    this.#taps = new Array<TapPort | null>(n).fill(null);
    this.#tapLists = new Array<PacketList | null>(n).fill(null);
    this.#touched = new Int32Array(n);
  }

  // COLD PATH
  attachTap(net: number, tap: TapPort): void {
    this.#taps[net] = tap;
    this.#tapLists[net] = new PacketList(this.#tapListSize);
  }

  // COLD PATH
  detachTap(net: number): void {
    this.#taps[net] = null;
    this.#tapLists[net] = null;
  }

  /** Frames read from network `net`'s TAP: encapsulate, send to one peer or replicate to all members. */
  // HOT PATH
  fromTap(net: number, batch: PacketBatch): void {
    const buf = batch.buf;
    const list = this.#send;
    list.reset(buf, batch.vnet);
    const c = this.#net;
    const base = net * NETWORK_STRIDE;
    const vni = this.#nets.vni[net];
    const headers = this.#nets.headers;
    const flood = this.#members.flood[net];
    for (let i = 0; i < batch.count; i++) {
      const off = i * batch.slotSize + HEADROOM;
      const len = batch.len[i];
      if (len < ETH_HLEN) {
        this.#global[G_TAP_TOO_SHORT]++;
        continue;
      }
      const hi = macHi(buf, off);
      if ((hi & 0x0100) !== 0 && this.#neigh !== null && this.#neigh.tryAnswer(net, vni, buf, off, len)) continue;
      const peer = (hi & 0x0100) === 0 ? this.#fdb.lookup(vni, hi, macLo(buf, off)) : -1;
      if (peer < 0 && flood.length === 0) {
        c[base + N_FLOOD_NO_PEERS]++;
        continue;
      }
      c[base + N_TX_FRAMES]++;
      c[base + N_TX_BYTES] += len;
      const start = off - VXLAN_HLEN;
      writeVxlanHeader(buf, start, headers, net * VXLAN_HLEN);
      const flow = flowHash(buf, off, len);
      if (peer >= 0) {
        c[base + N_UNICAST_FRAMES]++;
        this.#queueSend(list, start, len + VXLAN_HLEN, peer, flow, i);
        c[base + N_TX_DATAGRAMS]++;
      } else {
        c[base + N_FLOODED_FRAMES]++;
        for (let k = 0; k < flood.length; k++) this.#queueSend(list, start, len + VXLAN_HLEN, flood[k], flow, i);
        c[base + N_TX_DATAGRAMS] += flood.length;
      }
    }
    if (list.count > 0) this.#flushSend(list);
    if (this.#neigh !== null && this.#neigh.queued > 0) this.#neigh.flush(this.#taps[net]);
  }

  // HOT PATH
  #queueSend(list: PacketList, off: number, len: number, peer: number, flow: number, slot: number): void {
    if (list.count === list.capacity) this.#flushSend(list);
    const k = list.count++;
    list.off[k] = off;
    list.len[k] = len;
    list.peer[k] = peer;
    list.flow[k] = flow;
    list.vnetIdx[k] = slot;
  }

  // HOT PATH
  #flushSend(list: PacketList): void {
    const sent = this.#underlay.send(list);
    if (sent < list.count) this.#global[G_UNDERLAY_SEND_FAILED] += list.count - sent;
    list.count = 0;
  }

  /** Datagrams from the underlay: validate, learn the inner source, queue to the network's TAP. */
  // HOT PATH
  fromUnderlay(batch: PacketBatch): void {
    const g = this.#global;
    const buf = batch.buf;
    const now = this.#clock.now();
    const offs = batch.off;
    g[G_RX_DATAGRAMS] += batch.count;
    for (let i = 0; i < batch.count; i++) {
      const off = offs !== null ? offs[i] : i * batch.slotSize + HEADROOM;
      const len = batch.len[i];
      const vni = decodeVxlan(buf, off, len);
      if (vni < 0) {
        g[vni === VXLAN_TOO_SHORT ? G_TOO_SHORT : vni === VXLAN_BAD_FLAGS ? G_BAD_FLAGS : G_RESERVED_BITS]++;
        continue;
      }
      const net = this.#nets.lookup(vni);
      if (net < 0) {
        g[G_UNKNOWN_VNI]++;
        continue;
      }
      const peer = this.#peers.lookupAt(batch.srcAddr, i << 2);
      if (peer < 0) {
        g[G_UNKNOWN_PEER]++;
        continue;
      }
      if (!this.#members.isMember(net, peer)) {
        g[G_PEER_NOT_MEMBER]++;
        continue;
      }
      const inner = off + VXLAN_HLEN;
      const innerLen = len - VXLAN_HLEN;
      if (innerLen < ETH_HLEN) {
        g[G_INNER_TOO_SHORT]++;
        continue;
      }
      this.#learn(vni, macHi(buf, inner + ETH_SRC), macLo(buf, inner + ETH_SRC), peer, now);
      this.#queueTap(net, buf, inner, innerLen);
    }
    for (let k = 0; k < this.#touchedCount; k++) this.#flushTap(this.#touched[k]);
    this.#touchedCount = 0;
  }

  // HOT PATH
  #learn(vni: number, hi: number, lo: number, peer: number, now: number): void {
    if ((hi & 0x0100) !== 0) {
      this.#global[G_MULTICAST_SOURCE]++;
      return;
    }
    const r = this.#fdb.learn(vni, hi, lo, peer, now);
    if (r === LEARN_NEW) this.#global[G_FDB_LEARNED]++;
    else if (r === LEARN_MOVED) this.#global[G_FDB_MOVED]++;
    else if (r === LEARN_PINNED) this.#global[G_FDB_PINNED_CONFLICT]++;
    else if (r === LEARN_FULL) this.#global[G_FDB_FULL]++;
  }

  // HOT PATH
  #queueTap(net: number, buf: Buffer, off: number, len: number): void {
    const list = this.#tapLists[net];
    if (list === null) {
      this.#global[G_TAP_WRITE_FAILED]++;
      return;
    }
    if (list.count === 0) {
      list.buf = buf;
      this.#touched[this.#touchedCount++] = net;
    } else if (list.count === list.capacity) {
      // Still listed in #touched: flush now, keep filling, flushed again at batch end.
      this.#flushTap(net);
    }
    const k = list.count++;
    list.off[k] = off;
    list.len[k] = len;
    const c = this.#net;
    const base = net * NETWORK_STRIDE;
    c[base + N_RX_FRAMES]++;
    c[base + N_RX_BYTES] += len;
  }

  // HOT PATH
  #flushTap(net: number): void {
    const list = this.#tapLists[net];
    if (list === null || list.count === 0) return;
    const written = this.#taps[net]!.write(list);
    if (written < list.count) this.#global[G_TAP_WRITE_FAILED] += list.count - written;
    list.count = 0;
  }
}
