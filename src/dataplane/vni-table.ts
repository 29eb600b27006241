/**
 * VNI -> network index, the first lookup for every received datagram. VNIs span 24 bits, too
 * many for a direct array, so this is a small open-addressing hash over typed arrays
 * (linear probing, backward-shift deletion, >= 2x maxNetworks slots).
 */

// HOT PATH
function vniHash(vni: number): number {
  const h = Math.imul(vni, 0x9e3779b1);
  return h ^ (h >>> 15);
}

export class VniTable {
  readonly #vni: Uint32Array;
  /** Network index per slot, -1 = empty. */
  readonly #net: Int32Array;
  readonly #mask: number;

  constructor(maxNetworks: number) {
    let slots = 2;
    while (slots < 2 * maxNetworks) slots *= 2;
    this.#vni = new Uint32Array(slots);
    this.#net = new Int32Array(slots).fill(-1);
    this.#mask = slots - 1;
  }

  /** Network index of the VNI, or -1. */
  // HOT PATH
  lookup(vni: number): number {
    let i = vniHash(vni) & this.#mask;
    for (;;) {
      const n = this.#net[i];
      if (n < 0 || this.#vni[i] === vni) return n;
      i = (i + 1) & this.#mask;
    }
  }

  // COLD PATH from here on.

  /** Maps vni to net (the caller keeps VNIs unique and the table below capacity). */
  set(vni: number, net: number): void {
    let i = vniHash(vni) & this.#mask;
    while (this.#net[i] >= 0 && this.#vni[i] !== vni) i = (i + 1) & this.#mask;
    this.#vni[i] = vni;
    this.#net[i] = net;
  }

  delete(vni: number): boolean {
    const mask = this.#mask;
    let hole = vniHash(vni) & mask;
    for (;;) {
      if (this.#net[hole] < 0) return false;
      if (this.#vni[hole] === vni) break;
      hole = (hole + 1) & mask;
    }
    for (let j = (hole + 1) & mask; this.#net[j] >= 0; j = (j + 1) & mask) {
      const home = vniHash(this.#vni[j]) & mask;
      if (((j - home) & mask) < ((j - hole) & mask)) continue;
      this.#vni[hole] = this.#vni[j];
      this.#net[hole] = this.#net[j];
      hole = j;
    }
    this.#net[hole] = -1;
    return true;
  }
}
