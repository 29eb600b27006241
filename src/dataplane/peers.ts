/**
 * The peer table: peer index <-> id, underlay address and port. The index is what PacketList
 * entries, fdb values and UnderlayPort.setPeer speak. On receive a peer is recognised by its
 * source IP alone, since VXLAN senders pick the UDP source port per flow (RFC 7348 section 5);
 * that lookup is a typed-array hash over the address's four 32-bit words.
 */
import { OvnError } from '../lib/errors.js';
import { parseIp } from '../lib/ip.js';

/**
 * COLD PATH: an IP address as four big-endian 32-bit words, IPv4 as ::ffff:a.b.c.d (the form
 * PacketBatch.srcAddr uses). Undefined when the text is not an IP address.
 */
export function addressWords(text: string): Uint32Array | undefined {
  const ip = parseIp(text);
  if (!ip) return undefined;
  const value = ip.family === 4 ? (0xffffn << 32n) | ip.value : ip.value;
  const w = new Uint32Array(4);
  for (let k = 0; k < 4; k++) w[k] = Number((value >> BigInt(96 - 32 * k)) & 0xffffffffn);
  return w;
}

/** COLD PATH: canonical text of an IP address (dotted quad for IPv4, RFC 5952 for IPv6). */
export function canonicalAddress(text: string): string | undefined {
  return parseIp(text)?.address;
}

// HOT PATH
function addrHash(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w3, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca6b) ^ Math.imul(w1, 0xc2b2ae35) ^ Math.imul(w0, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 13);
}

export class PeerTable {
  readonly maxPeers: number;
  /** Peer i's address words at [4i, 4i+4). */
  readonly addr: Uint32Array;
  readonly #used: Uint8Array;
  /** 1 when the peer's address is in the hash. */
  readonly #bound: Uint8Array;
  readonly #ids: (string | undefined)[];
  readonly #addresses: string[] = [];
  readonly #ports: Uint16Array;
  readonly #byId = new Map<string, number>();
  /** Open-addressing hash: slot -> peer index, -1 empty; >= 2x maxPeers slots. */
  readonly #slots: Int32Array;
  readonly #mask: number;
  #count = 0;

  constructor(maxPeers: number) {
    this.maxPeers = maxPeers;
    this.addr = new Uint32Array(maxPeers * 4);
    this.#used = new Uint8Array(maxPeers);
    this.#bound = new Uint8Array(maxPeers);
    this.#ids = new Array<string | undefined>(maxPeers).fill(undefined);
    this.#ports = new Uint16Array(maxPeers);
    let slots = 2;
    while (slots < 2 * maxPeers) slots *= 2;
    this.#slots = new Int32Array(slots).fill(-1);
    this.#mask = slots - 1;
  }

  get count(): number {
    return this.#count;
  }

  /** Peer index for a source address, or -1. */
  // HOT PATH
  lookup(w0: number, w1: number, w2: number, w3: number): number {
    const a = this.addr;
    let i = addrHash(w0, w1, w2, w3) & this.#mask;
    for (;;) {
      const p = this.#slots[i];
      if (p < 0) return -1;
      const b = p << 2;
      if (a[b + 3] === w3 && a[b + 2] === w2 && a[b + 1] === w1 && a[b] === w0) return p;
      i = (i + 1) & this.#mask;
    }
  }

  /** Peer index for the address stored at words[at..at+4) (e.g. PacketBatch.srcAddr, at = 4i). */
  // HOT PATH
  lookupAt(words: Uint32Array, at: number): number {
    return this.lookup(words[at], words[at + 1], words[at + 2], words[at + 3]);
  }

  // COLD PATH from here on.

  indexOf(id: string): number {
    return this.#byId.get(id) ?? -1;
  }

  idOf(index: number): string | undefined {
    return this.#ids[index];
  }

  addressOf(index: number): string | undefined {
    return this.#used[index] ? this.#addresses[index] : undefined;
  }

  portOf(index: number): number {
    return this.#ports[index];
  }

  /** Indices of all peers, ascending. */
  indices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.maxPeers; i++) if (this.#used[i]) out.push(i);
    return out;
  }

  /** Adds a peer at the lowest free index and returns it. */
  add(id: string, address: string, words: Uint32Array, port: number): number {
    if (this.#byId.has(id)) throw new OvnError('OVN_ERR_EXISTS', `peer "${id}" exists`);
    const index = this.#used.indexOf(0);
    if (index < 0) throw new OvnError('OVN_ERR_CAPACITY', `at most ${this.maxPeers} peers`);
    this.#checkAddressFree(-1, address, words);
    this.#used[index] = 1;
    this.#ids[index] = id;
    this.#byId.set(id, index);
    this.#count++;
    this.#bound[index] = 0;
    this.bind(index, address, words, port);
    return index;
  }

  /** Changes a peer's address and port (same index, so fdb entries stay valid). */
  update(index: number, address: string, words: Uint32Array, port: number): void {
    this.#checkAddressFree(index, address, words);
    this.unbind(index);
    this.bind(index, address, words, port);
  }

  /**
   * Takes the peer out of the address hash (it then receives nothing) until bind(). Lets a
   * snapshot swap the addresses of two peers without a transient conflict.
   */
  unbind(index: number): void {
    if (!this.#bound[index]) return;
    this.#unhash(index);
    this.#bound[index] = 0;
  }

  bind(index: number, address: string, words: Uint32Array, port: number): void {
    this.#checkAddressFree(index, address, words);
    this.unbind(index);
    this.addr.set(words, index * 4);
    this.#addresses[index] = address;
    this.#ports[index] = port;
    let i = addrHash(words[0], words[1], words[2], words[3]) & this.#mask;
    while (this.#slots[i] >= 0) i = (i + 1) & this.#mask;
    this.#slots[i] = index;
    this.#bound[index] = 1;
  }

  remove(index: number): void {
    if (!this.#used[index]) return;
    this.unbind(index);
    this.#byId.delete(this.#ids[index]!);
    this.#ids[index] = undefined;
    this.#used[index] = 0;
    this.addr.fill(0, index * 4, index * 4 + 4);
    this.#count--;
  }

  #checkAddressFree(self: number, address: string, words: Uint32Array): void {
    const owner = this.lookup(words[0], words[1], words[2], words[3]);
    if (owner >= 0 && owner !== self) {
      throw new OvnError('OVN_ERR_EXISTS', `address ${address} already belongs to peer "${this.#ids[owner]}"`);
    }
  }

  /** Removes the peer's hash slot with backward-shift deletion (no tombstones). */
  #unhash(index: number): void {
    const a = this.addr;
    const b = index * 4;
    const mask = this.#mask;
    let hole = addrHash(a[b], a[b + 1], a[b + 2], a[b + 3]) & mask;
    while (this.#slots[hole] !== index) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; this.#slots[j] >= 0; j = (j + 1) & mask) {
      const q = this.#slots[j] * 4;
      const home = addrHash(a[q], a[q + 1], a[q + 2], a[q + 3]) & mask;
      if (((j - home) & mask) < ((j - hole) & mask)) continue;
      this.#slots[hole] = this.#slots[j];
      hole = j;
    }
    this.#slots[hole] = -1;
  }
}
