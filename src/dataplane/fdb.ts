/**
 * The forwarding table: (VNI, MAC) -> peer index, over typed arrays so that the hot path
 * neither allocates nor hashes strings.
 *
 * Layout: open addressing with linear probing over a power-of-two slot count >= 2 x capacity
 * (load <= 50%, so probes stay short and an empty slot always ends a probe). Deletion shifts
 * later entries of the cluster back (no tombstones), so lookups never wade through dead slots
 * and the table never needs a rebuild. Each slot holds its own key (VNI, MAC hi 16 bits, MAC lo
 * 32 bits), peer (-1 = empty slot), last-seen time and flags.
 *
 * POLICIES
 * - Learning at capacity: like Linux's vxlan `addrmax`, a NEW source is simply not learned
 *   (LEARN_FULL, counted as fdb_full by the caller); existing entries still refresh and move, and
 *   ageing makes room again. Evicting on learn would let a flood of spoofed sources flush real
 *   entries.
 * - Pinned (static) entries never age, and learning never changes them.
 * - Pinning never fails for lack of room while fewer than `capacity` entries are pinned: at
 *   capacity it evicts ONE learned entry, the least recently seen among the first EVICT_SAMPLE
 *   learned entries met from a rotating cursor (sampled LRU: bounded work, old entries go first).
 * - Multicast sources are never learned (they cannot be a frame's source, and a multicast
 *   destination is always flooded anyway).
 * - Ageing: an entry is expired when now - lastSeen >= maxAge; each age() call sweeps at most
 *   `budget` slots from a rotating cursor, so a tick's work is bounded whatever the table size.
 */
import { OvnError } from '../lib/errors.js';

export const LEARN_REFRESHED = 0;
export const LEARN_NEW = 1;
export const LEARN_MOVED = 2;
/** Pinned to another peer: not changed. */
export const LEARN_PINNED = 3;
/** New source and the table is at capacity: not learned. */
export const LEARN_FULL = 4;
export const LEARN_MULTICAST = 5;

export const DEFAULT_FDB_CAPACITY = 65_536;
const EVICT_SAMPLE = 64;
const FLAG_PINNED = 1;

export interface FdbEntry {
  vni: number;
  hi: number;
  lo: number;
  peer: number;
  lastSeen: number;
  pinned: boolean;
}

// HOT PATH
function slotHash(vni: number, hi: number, lo: number): number {
  let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi | (vni << 16), 0x85ebca6b) ^ Math.imul(vni >>> 16, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class Fdb {
  readonly capacity: number;
  readonly slotCount: number;
  readonly #mask: number;
  readonly #vni: Uint32Array;
  readonly #hi: Uint16Array;
  readonly #lo: Uint32Array;
  readonly #peer: Int32Array;
  readonly #seen: Float64Array;
  readonly #flags: Uint8Array;
  #size = 0;
  #pinned = 0;
  #ageCursor = 0;
  #evictCursor = 0;

  constructor(capacity = DEFAULT_FDB_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 26) {
      throw new OvnError('OVN_ERR_INVALID', `fdb capacity ${capacity} must be an integer in 1..${1 << 26}`);
    }
    this.capacity = capacity;
    let slots = 2;
    while (slots < 2 * capacity) slots *= 2;
    this.slotCount = slots;
    this.#mask = slots - 1;
    this.#vni = new Uint32Array(slots);
    this.#hi = new Uint16Array(slots);
    this.#lo = new Uint32Array(slots);
    this.#peer = new Int32Array(slots).fill(-1);
    this.#seen = new Float64Array(slots);
    this.#flags = new Uint8Array(slots);
  }

  get size(): number {
    return this.#size;
  }

  get pinnedCount(): number {
    return this.#pinned;
  }

  /** Slot of the key, or -1. `lo` is unsigned (see ethernet.ts). */
  // HOT PATH
  #find(vni: number, hi: number, lo: number): number {
    const peer = this.#peer;
    let i = slotHash(vni, hi, lo) & this.#mask;
    for (;;) {
      if (peer[i] < 0) return -1;
      if (this.#lo[i] === lo && this.#hi[i] === hi && this.#vni[i] === vni) return i;
      i = (i + 1) & this.#mask;
    }
  }

  /** Peer index for the destination, or -1. */
  // HOT PATH
  lookup(vni: number, hi: number, lo: number): number {
    const i = this.#find(vni, hi, lo >>> 0);
    return i < 0 ? -1 : this.#peer[i];
  }

  /** Records that (vni, MAC) was seen behind `peer`; returns a LEARN_* code. */
  // HOT PATH
  learn(vni: number, hi: number, lo: number, peer: number, nowMs: number): number {
    if ((hi & 0x0100) !== 0) return LEARN_MULTICAST;
    lo >>>= 0;
    const peers = this.#peer;
    let i = slotHash(vni, hi, lo) & this.#mask;
    for (;;) {
      const p = peers[i];
      if (p < 0) break;
      if (this.#lo[i] === lo && this.#hi[i] === hi && this.#vni[i] === vni) {
        if ((this.#flags[i] & FLAG_PINNED) !== 0) return p === peer ? LEARN_REFRESHED : LEARN_PINNED;
        this.#seen[i] = nowMs;
        if (p === peer) return LEARN_REFRESHED;
        peers[i] = peer;
        return LEARN_MOVED;
      }
      i = (i + 1) & this.#mask;
    }
    if (this.#size >= this.capacity) return LEARN_FULL;
    this.#store(i, vni, hi, lo, peer, nowMs, 0);
    return LEARN_NEW;
  }

  #store(i: number, vni: number, hi: number, lo: number, peer: number, nowMs: number, flags: number): void {
    this.#vni[i] = vni;
    this.#hi[i] = hi;
    this.#lo[i] = lo;
    this.#peer[i] = peer;
    this.#seen[i] = nowMs;
    this.#flags[i] = flags;
    this.#size++;
  }

  // COLD PATH from here on.

  /**
   * Pins (vni, MAC) to `peer`, replacing a learned or pinned entry. Returns the learned entry
   * evicted to make room, if any. Throws OVN_ERR_CAPACITY only when `capacity` entries are
   * already pinned.
   */
  pin(vni: number, hi: number, lo: number, peer: number, nowMs = 0): FdbEntry | null {
    lo >>>= 0;
    const at = this.#find(vni, hi, lo);
    if (at >= 0) {
      if ((this.#flags[at] & FLAG_PINNED) === 0) this.#pinned++;
      this.#peer[at] = peer;
      this.#seen[at] = nowMs;
      this.#flags[at] = FLAG_PINNED;
      return null;
    }
    if (this.#pinned >= this.capacity) {
      throw new OvnError('OVN_ERR_CAPACITY', `fdb: all ${this.capacity} entries are pinned`);
    }
    const evicted = this.#size >= this.capacity ? this.#evictLearned() : null;
    this.#store(this.#emptySlotFor(vni, hi, lo), vni, hi, lo, peer, nowMs, FLAG_PINNED);
    this.#pinned++;
    return evicted;
  }

  /** Removes the entry if it is pinned; a learned entry stays. Returns whether one was removed. */
  unpin(vni: number, hi: number, lo: number): boolean {
    const at = this.#find(vni, hi, lo >>> 0);
    if (at < 0 || (this.#flags[at] & FLAG_PINNED) === 0) return false;
    this.#deleteSlot(at);
    return true;
  }

  /** Removes the entry, learned or pinned. */
  remove(vni: number, hi: number, lo: number): boolean {
    const at = this.#find(vni, hi, lo >>> 0);
    if (at < 0) return false;
    this.#deleteSlot(at);
    return true;
  }

  get(vni: number, hi: number, lo: number): FdbEntry | undefined {
    const at = this.#find(vni, hi, lo >>> 0);
    return at < 0 ? undefined : this.#entry(at);
  }

  /** Removes every entry pointing at `peer` (pinned ones too unless told otherwise). */
  flushPeer(peer: number, includePinned = true): number {
    return this.#removeWhere((i) => this.#peer[i] === peer && (includePinned || !this.#isPinned(i)));
  }

  /** Removes every entry of `peer` in the given VNIs, pinned ones included (one pass). */
  flushPeerInVnis(peer: number, vnis: Iterable<number>): number {
    const set = new Set(vnis);
    return this.#removeWhere((i) => this.#peer[i] === peer && set.has(this.#vni[i]));
  }

  flushVni(vni: number): number {
    return this.#removeWhere((i) => this.#vni[i] === vni);
  }

  clear(): void {
    this.#peer.fill(-1);
    this.#size = 0;
    this.#pinned = 0;
  }

  /**
   * Removes learned entries with nowMs - lastSeen >= maxAgeMs among the next `budget` slots
   * from a rotating cursor (work: `budget` slot steps plus one re-check per removal). Returns
   * how many were removed.
   */
  age(nowMs: number, maxAgeMs: number, budget: number): number {
    const steps = Math.min(Math.max(0, Math.floor(budget)), this.slotCount);
    let i = this.#ageCursor;
    let removed = 0;
    for (let n = 0; n < steps; ) {
      if (this.#peer[i] >= 0 && !this.#isPinned(i) && nowMs - this.#seen[i] >= maxAgeMs) {
        // The back-shift may pull a later, not yet visited entry into slot i: look again.
        this.#deleteSlot(i);
        removed++;
        continue;
      }
      i = (i + 1) & this.#mask;
      n++;
    }
    this.#ageCursor = i;
    return removed;
  }

  /** Every entry, in slot order. */
  dump(): FdbEntry[] {
    const out: FdbEntry[] = [];
    for (let i = 0; i < this.slotCount; i++) if (this.#peer[i] >= 0) out.push(this.#entry(i));
    return out;
  }

  #isPinned(i: number): boolean {
    return (this.#flags[i] & FLAG_PINNED) !== 0;
  }

  #entry(i: number): FdbEntry {
    return { vni: this.#vni[i], hi: this.#hi[i], lo: this.#lo[i], peer: this.#peer[i], lastSeen: this.#seen[i], pinned: this.#isPinned(i) };
  }

  #emptySlotFor(vni: number, hi: number, lo: number): number {
    let i = slotHash(vni, hi, lo) & this.#mask;
    while (this.#peer[i] >= 0) i = (i + 1) & this.#mask;
    return i;
  }

  #evictLearned(): FdbEntry {
    let best = -1;
    let seen = 0;
    let i = this.#evictCursor;
    for (let n = 0; n < this.slotCount && seen < EVICT_SAMPLE; n++, i = (i + 1) & this.#mask) {
      if (this.#peer[i] < 0 || this.#isPinned(i)) continue;
      seen++;
      if (best < 0 || this.#seen[i] < this.#seen[best]) best = i;
    }
    this.#evictCursor = i;
    // Callers guarantee a learned entry exists (size >= capacity > pinned).
    const victim = this.#entry(best);
    this.#deleteSlot(best);
    return victim;
  }

  /** Removes matching entries in one pass that starts right after an empty slot, so no cluster wraps past the pass's end. */
  #removeWhere(match: (slot: number) => boolean): number {
    if (this.#size === 0) return 0;
    let start = 0;
    while (this.#peer[start] >= 0) start++;
    let removed = 0;
    for (let n = 1; n <= this.slotCount; ) {
      const i = (start + n) & this.#mask;
      if (this.#peer[i] >= 0 && match(i)) {
        this.#deleteSlot(i);
        removed++;
        continue;
      }
      n++;
    }
    return removed;
  }

  /** Backward-shift deletion: moves later cluster members whose home is at or before the hole. */
  #deleteSlot(slot: number): void {
    const mask = this.#mask;
    if (this.#isPinned(slot)) this.#pinned--;
    let hole = slot;
    for (let j = (slot + 1) & mask; this.#peer[j] >= 0; j = (j + 1) & mask) {
      const home = slotHash(this.#vni[j], this.#hi[j], this.#lo[j]) & mask;
      if (((j - home) & mask) < ((j - hole) & mask)) continue;
      this.#vni[hole] = this.#vni[j];
      this.#hi[hole] = this.#hi[j];
      this.#lo[hole] = this.#lo[j];
      this.#peer[hole] = this.#peer[j];
      this.#seen[hole] = this.#seen[j];
      this.#flags[hole] = this.#flags[j];
      hole = j;
    }
    this.#peer[hole] = -1;
    this.#flags[hole] = 0;
    this.#size--;
  }
}
