/**
 * ARP and IPv6 neighbour-discovery suppression (after the kernel VXLAN's "proxy" option and
 * EVPN's ARP suppression). The control plane knows every remote endpoint's address and MAC, so
 * when a local endpoint asks "who has 10.77.0.7?" the data plane answers on the spot, writing
 * the reply back into the network's TAP, instead of flooding the question to every peer.
 *
 * Answered: an untagged ARP request (Ethernet/IPv4) to a group address, and an untagged ICMPv6
 * neighbour solicitation to a group address, whose target is in the table. Everything else is
 * left to the forwarder and floods as before: unknown targets, gratuitous ARP (sender ==
 * target: an endpoint announcing itself must reach everyone), ARP probes (sender 0.0.0.0),
 * duplicate-address detection (source ::), unicast solicitations (NUD: the real endpoint must
 * confirm it is alive), VLAN-tagged frames.
 *
 * NeighborTable: (VNI, address) -> MAC over typed arrays, open addressing with linear probing
 * and backward-shift deletion (as fdb.ts). An address is four 32-bit words; IPv4 is stored as
 * ::ffff:a.b.c.d, the form PacketBatch.srcAddr uses, so both families share one table.
 *
 * NeighborResponder: replies are built in a buffer preallocated at start (one slot per frame of
 * a receive batch, with the same headroom as a PacketBatch slot) and written to the TAP in one
 * PacketList at the end of the batch.
 */
import { OvnError } from '../lib/errors.js';
import {
  Counters, G_SUPPRESSED_ARP, G_SUPPRESSED_ND, G_TAP_WRITE_FAILED, N_ARP_SUPPRESSED, N_ND_SUPPRESSED, NETWORK_STRIDE,
} from './counters.js';
import { HEADROOM, PacketList, type TapPort } from './ports.js';

export const DEFAULT_NEIGHBOR_CAPACITY = 65_536;

const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV6 = 0x86dd;
const ARP_LEN = 28;
const IPV6_HLEN = 40;
const ICMPV6 = 58;
const ND_NS = 135;
const ND_NA = 136;
/** Ethernet minimum without FCS: an ARP reply is padded to it. */
const ETH_MIN = 60;
/** NA: 24-byte message + 8-byte target link-layer address option. */
const NA_LEN = 32;
/** Bytes per reply slot: headroom (room for a vnet header, as in PacketBatch) + 86-byte NA, rounded. */
export const REPLY_SLOT = 128;

export interface NeighborDumpEntry {
  vni: number;
  /** Four big-endian words (IPv4 as ::ffff:a.b.c.d). */
  words: [number, number, number, number];
  hi: number;
  lo: number;
}

// HOT PATH
function neighHash(vni: number, w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w3, 0x9e3779b1) ^ Math.imul(w2 ^ vni, 0x85ebca6b) ^ Math.imul(w1, 0xc2b2ae35) ^ Math.imul(w0 ^ (vni << 8), 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 13);
}

/** Buffer.copy would make a view object per call; a plain loop allocates nothing. */
// HOT PATH
function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  for (let k = 0; k < n; k++) dst[to + k] = src[from + k];
}

// HOT PATH
function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export class NeighborTable {
  readonly capacity: number;
  /** MAC of slot i (read by the responder after lookup). */
  readonly macHi: Uint16Array;
  readonly macLo: Uint32Array;
  readonly #vni: Uint32Array;
  readonly #addr: Uint32Array;
  /** 1 = slot in use. */
  readonly #used: Uint8Array;
  readonly #mask: number;
  #size = 0;

  constructor(capacity = DEFAULT_NEIGHBOR_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24) {
      throw new OvnError('OVN_ERR_INVALID', `neighbor table capacity ${capacity} must be an integer in 1..${1 << 24}`);
    }
    this.capacity = capacity;
    let slots = 2;
    while (slots < 2 * capacity) slots *= 2;
    this.#mask = slots - 1;
    this.macHi = new Uint16Array(slots);
    this.macLo = new Uint32Array(slots);
    this.#vni = new Uint32Array(slots);
    this.#addr = new Uint32Array(slots * 4);
    this.#used = new Uint8Array(slots);
  }

  get size(): number {
    return this.#size;
  }

  /** Slot of (vni, address), or -1. Words are unsigned 32-bit values. */
  // HOT PATH
  lookup(vni: number, w0: number, w1: number, w2: number, w3: number): number {
    const a = this.#addr;
    let i = neighHash(vni, w0, w1, w2, w3) & this.#mask;
    for (;;) {
      if (this.#used[i] === 0) return -1;
      const b = i << 2;
      if (a[b + 3] === w3 && a[b + 2] === w2 && a[b + 1] === w1 && a[b] === w0 && this.#vni[i] === vni) return i;
      i = (i + 1) & this.#mask;
    }
  }

  /** Slot of an IPv4 address (an unsigned 32-bit value), or -1. */
  // HOT PATH
  lookup4(vni: number, ip: number): number {
    return this.lookup(vni, 0, 0, 0xffff, ip);
  }

  // COLD PATH from here on.

  /** Adds or replaces (vni, address) -> MAC. Throws OVN_ERR_CAPACITY when full. */
  set(vni: number, words: ArrayLike<number>, hi: number, lo: number): void {
    let i = this.lookup(vni, words[0] >>> 0, words[1] >>> 0, words[2] >>> 0, words[3] >>> 0);
    if (i < 0) {
      if (this.#size >= this.capacity) throw new OvnError('OVN_ERR_CAPACITY', `neighbor table: all ${this.capacity} entries are in use`);
      i = neighHash(vni, words[0] >>> 0, words[1] >>> 0, words[2] >>> 0, words[3] >>> 0) & this.#mask;
      while (this.#used[i] !== 0) i = (i + 1) & this.#mask;
      this.#vni[i] = vni;
      for (let k = 0; k < 4; k++) this.#addr[(i << 2) + k] = words[k];
      this.#used[i] = 1;
      this.#size++;
    }
    this.macHi[i] = hi;
    this.macLo[i] = lo >>> 0;
  }

  remove(vni: number, words: ArrayLike<number>): boolean {
    const i = this.lookup(vni, words[0] >>> 0, words[1] >>> 0, words[2] >>> 0, words[3] >>> 0);
    if (i < 0) return false;
    this.#deleteSlot(i);
    return true;
  }

  flushVni(vni: number): number {
    const victims: [number, number, number, number][] = [];
    for (const e of this.dump()) if (e.vni === vni) victims.push(e.words);
    for (const w of victims) this.remove(vni, w);
    return victims.length;
  }

  clear(): void {
    this.#used.fill(0);
    this.#size = 0;
  }

  dump(): NeighborDumpEntry[] {
    const out: NeighborDumpEntry[] = [];
    const a = this.#addr;
    for (let i = 0; i <= this.#mask; i++) {
      if (this.#used[i] === 0) continue;
      const b = i << 2;
      out.push({ vni: this.#vni[i], words: [a[b], a[b + 1], a[b + 2], a[b + 3]], hi: this.macHi[i], lo: this.macLo[i] });
    }
    return out;
  }

  #home(i: number): number {
    const a = this.#addr;
    const b = i << 2;
    return neighHash(this.#vni[i], a[b], a[b + 1], a[b + 2], a[b + 3]) & this.#mask;
  }

  #deleteSlot(slot: number): void {
    const mask = this.#mask;
    let hole = slot;
    for (let j = (slot + 1) & mask; this.#used[j] !== 0; j = (j + 1) & mask) {
      const home = this.#home(j);
      if (((j - home) & mask) < ((j - hole) & mask)) continue;
      this.#vni[hole] = this.#vni[j];
      this.#addr.copyWithin(hole << 2, j << 2, (j << 2) + 4);
      this.macHi[hole] = this.macHi[j];
      this.macLo[hole] = this.macLo[j];
      hole = j;
    }
    this.#used[hole] = 0;
    this.#size--;
  }
}

export class NeighborResponder {
  readonly table: NeighborTable;
  readonly #net: Float64Array;
  readonly #global: Float64Array;
  readonly #out: Buffer;
  readonly #list: PacketList;

  /** `capacity`: replies per batch (the TAP receive batch size: at most one per frame). */
  constructor(table: NeighborTable, counters: Counters, capacity: number) {
    this.table = table;
    this.#net = counters.net;
    this.#global = counters.global;
    this.#out = Buffer.alloc(capacity * REPLY_SLOT);
    this.#list = new PacketList(capacity);
    this.#list.reset(this.#out);
  }

  /** Replies waiting for flush(). */
  get queued(): number {
    return this.#list.count;
  }

  /**
   * A frame read from network `net`'s TAP, starting at buf[off] (len >= 14, destination a group
   * address): if it asks for a known neighbour, queue the answer and return true (the frame is
   * consumed); otherwise return false and change nothing.
   */
  // HOT PATH
  tryAnswer(net: number, vni: number, buf: Buffer, off: number, len: number): boolean {
    if (this.table.size === 0 || this.#list.count === this.#list.capacity) return false;
    const type = (buf[off + 12] << 8) | buf[off + 13];
    if (type === ETHERTYPE_ARP) return this.#arp(net, vni, buf, off, len);
    if (type === ETHERTYPE_IPV6) return this.#solicitation(net, vni, buf, off, len);
    return false;
  }

  /** Writes the queued replies to `tap` (null: the network went away; they are dropped). */
  // HOT PATH
  flush(tap: TapPort | null): void {
    const list = this.#list;
    const n = list.count;
    const written = tap === null ? 0 : tap.write(list);
    if (written < n) this.#global[G_TAP_WRITE_FAILED] += n - written;
    list.count = 0;
  }

  // HOT PATH
  #arp(net: number, vni: number, b: Buffer, off: number, len: number): boolean {
    if (len < 14 + ARP_LEN) return false;
    const p = off + 14;
    // htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4, oper 1 (request)
    if (b[p] !== 0 || b[p + 1] !== 1 || b[p + 2] !== 8 || b[p + 3] !== 0 || b[p + 4] !== 6 || b[p + 5] !== 4 || b[p + 6] !== 0 || b[p + 7] !== 1) return false;
    const spa = readU32(b, p + 14);
    const tpa = readU32(b, p + 24);
    if (spa === 0 || spa === tpa) return false;
    const slot = this.table.lookup4(vni, tpa);
    if (slot < 0) return false;
    const o = this.#claimSlot(ETH_MIN);
    const r = this.#out;
    this.#ethernet(o, b, off, slot, ETHERTYPE_ARP);
    const q = o + 14;
    r[q] = 0; r[q + 1] = 1; r[q + 2] = 8; r[q + 3] = 0; r[q + 4] = 6; r[q + 5] = 4; r[q + 6] = 0; r[q + 7] = 2;
    this.#writeMac(q + 8, slot);
    copyBytes(b, p + 24, r, q + 14, 4); // spa = the asked-for address
    copyBytes(b, p + 8, r, q + 18, 10); // tha, tpa = the asker's sha, spa
    for (let k = q + ARP_LEN; k < o + ETH_MIN; k++) r[k] = 0;
    this.#net[net * NETWORK_STRIDE + N_ARP_SUPPRESSED]++;
    this.#global[G_SUPPRESSED_ARP]++;
    return true;
  }

  // HOT PATH
  #solicitation(net: number, vni: number, b: Buffer, off: number, len: number): boolean {
    if (len < 14 + IPV6_HLEN + 24) return false;
    const ip = off + 14;
    const icmp = ip + IPV6_HLEN;
    if (b[ip] >> 4 !== 6 || b[ip + 6] !== ICMPV6 || b[ip + 7] !== 255 || b[icmp] !== ND_NS || b[icmp + 1] !== 0) return false;
    const plen = (b[ip + 4] << 8) | b[ip + 5];
    if (plen < 24 || 14 + IPV6_HLEN + plen > len) return false;
    if ((readU32(b, ip + 8) | readU32(b, ip + 12) | readU32(b, ip + 16) | readU32(b, ip + 20)) === 0) return false; // DAD
    const slot = this.table.lookup(vni, readU32(b, icmp + 8), readU32(b, icmp + 12), readU32(b, icmp + 16), readU32(b, icmp + 20));
    if (slot < 0) return false;
    const o = this.#claimSlot(14 + IPV6_HLEN + NA_LEN);
    const r = this.#out;
    this.#ethernet(o, b, off, slot, ETHERTYPE_IPV6);
    const rip = o + 14;
    r[rip] = 0x60; r[rip + 1] = 0; r[rip + 2] = 0; r[rip + 3] = 0;
    r[rip + 4] = 0; r[rip + 5] = NA_LEN; r[rip + 6] = ICMPV6; r[rip + 7] = 255;
    copyBytes(b, icmp + 8, r, rip + 8, 16); // source: the target address
    copyBytes(b, ip + 8, r, rip + 24, 16); // destination: the solicitation's source
    const ri = rip + IPV6_HLEN;
    r[ri] = ND_NA; r[ri + 1] = 0; r[ri + 2] = 0; r[ri + 3] = 0;
    r[ri + 4] = 0x60; r[ri + 5] = 0; r[ri + 6] = 0; r[ri + 7] = 0; // Solicited + Override
    copyBytes(b, icmp + 8, r, ri + 8, 16);
    r[ri + 24] = 2; r[ri + 25] = 1; // target link-layer address option, 8 bytes
    this.#writeMac(ri + 26, slot);
    const sum = icmpv6Checksum(r, rip, NA_LEN);
    r[ri + 2] = sum >>> 8;
    r[ri + 3] = sum & 0xff;
    this.#net[net * NETWORK_STRIDE + N_ND_SUPPRESSED]++;
    this.#global[G_SUPPRESSED_ND]++;
    return true;
  }

  /** Next reply slot's frame offset, entered in the list with length `len`. */
  // HOT PATH
  #claimSlot(len: number): number {
    const list = this.#list;
    const k = list.count++;
    const o = k * REPLY_SLOT + HEADROOM;
    list.off[k] = o;
    list.len[k] = len;
    return o;
  }

  /** Reply's Ethernet header: to the asker (the request's source), from the neighbour's MAC. */
  // HOT PATH
  #ethernet(o: number, req: Buffer, off: number, slot: number, type: number): void {
    copyBytes(req, off + 6, this.#out, o, 6);
    this.#writeMac(o + 6, slot);
    this.#out[o + 12] = type >>> 8;
    this.#out[o + 13] = type & 0xff;
  }

  // HOT PATH
  #writeMac(o: number, slot: number): void {
    const r = this.#out;
    const hi = this.table.macHi[slot];
    const lo = this.table.macLo[slot];
    r[o] = hi >>> 8;
    r[o + 1] = hi & 0xff;
    r[o + 2] = lo >>> 24;
    r[o + 3] = (lo >>> 16) & 0xff;
    r[o + 4] = (lo >>> 8) & 0xff;
    r[o + 5] = lo & 0xff;
  }
}

/**
 * ICMPv6 checksum (RFC 4443 2.3) of the `len`-byte message after the IPv6 header at `ip`, over
 * the pseudo-header (source, destination, length, next header). The checksum field must be
 * zero when called. `len` is even.
 */
// HOT PATH
export function icmpv6Checksum(b: Uint8Array, ip: number, len: number): number {
  let sum = len + ICMPV6;
  for (let o = ip + 8; o < ip + IPV6_HLEN; o += 2) sum += (b[o] << 8) | b[o + 1];
  const end = ip + IPV6_HLEN + len;
  for (let o = ip + IPV6_HLEN; o < end; o += 2) sum += (b[o] << 8) | b[o + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
