/**
 * Which peers take part in which network: a bitmap (network index x peer index) checked per
 * received datagram, and per network a flood list (Int32Array of peer indices, ascending) used
 * for head-end replication. Both change only on commands; flood lists are rebuilt then.
 */

const EMPTY = new Int32Array(0);

export class Membership {
  readonly maxNetworks: number;
  readonly maxPeers: number;
  readonly #words: number;
  readonly #bits: Uint32Array;
  /** Per network index: the member peers to replicate floods to. Never mutated in place. */
  readonly flood: Int32Array[];

  constructor(maxNetworks: number, maxPeers: number) {
    this.maxNetworks = maxNetworks;
    this.maxPeers = maxPeers;
    this.#words = (maxPeers + 31) >>> 5;
    this.#bits = new Uint32Array(maxNetworks * this.#words);
    this.flood = new Array<Int32Array>(maxNetworks).fill(EMPTY);
  }

  // HOT PATH
  isMember(net: number, peer: number): boolean {
    return (this.#bits[net * this.#words + (peer >>> 5)] & (1 << (peer & 31))) !== 0;
  }

  // COLD PATH from here on.

  /** Sets one bit; returns whether it changed. Call rebuild(net) after a batch of changes. */
  set(net: number, peer: number, member: boolean): boolean {
    const at = net * this.#words + (peer >>> 5);
    const bit = 1 << (peer & 31);
    const was = (this.#bits[at] & bit) !== 0;
    if (member) this.#bits[at] |= bit;
    else this.#bits[at] &= ~bit;
    return was !== member;
  }

  /** Drops every member of a network (and its flood list). */
  clearNetwork(net: number): void {
    this.#bits.fill(0, net * this.#words, (net + 1) * this.#words);
    this.flood[net] = EMPTY;
  }

  /** Networks (indices) the peer is a member of. */
  networksOf(peer: number): number[] {
    const out: number[] = [];
    for (let n = 0; n < this.maxNetworks; n++) if (this.isMember(n, peer)) out.push(n);
    return out;
  }

  /** Recomputes a network's flood list from its bitmap row. */
  rebuild(net: number): void {
    const list: number[] = [];
    const base = net * this.#words;
    for (let w = 0; w < this.#words; w++) {
      let v = this.#bits[base + w];
      while (v !== 0) {
        const low = v & -v;
        list.push((w << 5) + (31 - Math.clz32(low)));
        v ^= low;
      }
    }
    this.flood[net] = list.length === 0 ? EMPTY : Int32Array.from(list);
  }
}
