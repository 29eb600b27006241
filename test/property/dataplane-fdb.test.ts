/**
 * Differential test: the typed-array Fdb against a plain Map model under random operation
 * sequences over a small key space (many collisions, moves, a table that is often full).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Fdb, LEARN_FULL, LEARN_MOVED, LEARN_MULTICAST, LEARN_NEW, LEARN_PINNED, LEARN_REFRESHED } from '../../src/dataplane/fdb.js';

interface Entry { peer: number; seen: number; pinned: boolean }
interface Key { vni: number; hi: number; lo: number }

const VNIS = [0, 1, 2, 0xffffff];
const HIS = [0x0200, 0x0201, 0xfffe, 0x0100];
const LOS = [0, 1, 2, 3, 4, 5, 6, 7, 0x80000000, 0xffffffff];

const keyArb = fc.record({ vni: fc.constantFrom(...VNIS), hi: fc.constantFrom(...HIS), lo: fc.constantFrom(...LOS) });
const peerArb = fc.integer({ min: 0, max: 4 });

type Op =
  | { op: 'learn'; k: Key; peer: number; dt: number }
  | { op: 'lookup'; k: Key }
  | { op: 'pin'; k: Key; peer: number }
  | { op: 'unpin'; k: Key }
  | { op: 'remove'; k: Key }
  | { op: 'flushPeer'; peer: number; pinned: boolean }
  | { op: 'flushPeerInVnis'; peer: number; vnis: number[] }
  | { op: 'flushVni'; vni: number }
  | { op: 'age'; maxAge: number; budget: number | 'all' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('learn' as const), k: keyArb, peer: peerArb, dt: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('lookup' as const), k: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pin' as const), k: keyArb, peer: peerArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unpin' as const), k: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), k: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flushPeer' as const), peer: peerArb, pinned: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flushPeerInVnis' as const), peer: peerArb, vnis: fc.subarray(VNIS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flushVni' as const), vni: fc.constantFrom(...VNIS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('age' as const), maxAge: fc.integer({ min: 0, max: 200 }), budget: fc.oneof(fc.constant('all' as const), fc.integer({ min: 0, max: 40 })) }) },
);

const keyOf = (k: Key) => `${k.vni}/${k.hi}/${k.lo >>> 0}`;
const isMulticast = (hi: number) => (hi & 0x0100) !== 0;

function check(fdb: Fdb, model: Map<string, Entry & Key>, capacity: number): void {
  expect(fdb.size).toBe(model.size);
  expect(fdb.size).toBeLessThanOrEqual(capacity);
  expect(fdb.pinnedCount).toBe([...model.values()].filter((e) => e.pinned).length);
  for (const e of model.values()) expect(fdb.lookup(e.vni, e.hi, e.lo)).toBe(e.peer);
  const dumped = new Map(fdb.dump().map((e) => [keyOf(e), e]));
  expect(dumped.size).toBe(model.size);
  for (const [k, e] of model) expect(dumped.get(k)).toEqual({ vni: e.vni, hi: e.hi, lo: e.lo >>> 0, peer: e.peer, lastSeen: e.seen, pinned: e.pinned });
}

function removeWhere(model: Map<string, Entry & Key>, pred: (e: Entry & Key) => boolean): number {
  let n = 0;
  for (const [k, e] of [...model]) if (pred(e)) { model.delete(k); n++; }
  return n;
}

function step(fdb: Fdb, model: Map<string, Entry & Key>, capacity: number, now: { t: number }, o: Op): void {
  const k = 'k' in o ? o.k : undefined;
  const cur = k ? model.get(keyOf(k)) : undefined;
  switch (o.op) {
    case 'learn': {
      now.t += o.dt;
      const r = fdb.learn(k!.vni, k!.hi, k!.lo, o.peer, now.t);
      let want: number;
      if (isMulticast(k!.hi)) want = LEARN_MULTICAST;
      else if (cur?.pinned) want = cur.peer === o.peer ? LEARN_REFRESHED : LEARN_PINNED;
      else if (cur) {
        want = cur.peer === o.peer ? LEARN_REFRESHED : LEARN_MOVED;
        cur.peer = o.peer;
        cur.seen = now.t;
      } else if (model.size >= capacity) want = LEARN_FULL;
      else {
        want = LEARN_NEW;
        model.set(keyOf(k!), { ...k!, lo: k!.lo >>> 0, peer: o.peer, seen: now.t, pinned: false });
      }
      expect(r).toBe(want);
      break;
    }
    case 'lookup':
      expect(fdb.lookup(k!.vni, k!.hi, k!.lo)).toBe(cur?.peer ?? -1);
      break;
    case 'pin': {
      const pinned = [...model.values()].filter((e) => e.pinned).length;
      if (!cur && pinned >= capacity) {
        expect(() => fdb.pin(k!.vni, k!.hi, k!.lo, o.peer, now.t)).toThrow(expect.objectContaining({ code: 'OVN_ERR_CAPACITY' }));
        break;
      }
      const evicted = fdb.pin(k!.vni, k!.hi, k!.lo, o.peer, now.t);
      if (cur || model.size < capacity) expect(evicted).toBeNull();
      else {
        // The sample (64) covers every learned entry of these small tables: the oldest goes.
        const learned = [...model.values()].filter((e) => !e.pinned);
        const oldest = Math.min(...learned.map((e) => e.seen));
        expect(evicted).not.toBeNull();
        expect(evicted!.pinned).toBe(false);
        expect(evicted!.lastSeen).toBe(oldest);
        expect(model.delete(keyOf(evicted!))).toBe(true);
      }
      model.set(keyOf(k!), { ...k!, lo: k!.lo >>> 0, peer: o.peer, seen: now.t, pinned: true });
      break;
    }
    case 'unpin':
      expect(fdb.unpin(k!.vni, k!.hi, k!.lo)).toBe(!!cur?.pinned);
      if (cur?.pinned) model.delete(keyOf(k!));
      break;
    case 'remove':
      expect(fdb.remove(k!.vni, k!.hi, k!.lo)).toBe(!!cur);
      model.delete(keyOf(k!));
      break;
    case 'flushPeer':
      expect(fdb.flushPeer(o.peer, o.pinned)).toBe(removeWhere(model, (e) => e.peer === o.peer && (o.pinned || !e.pinned)));
      break;
    case 'flushPeerInVnis':
      expect(fdb.flushPeerInVnis(o.peer, o.vnis)).toBe(removeWhere(model, (e) => e.peer === o.peer && o.vnis.includes(e.vni)));
      break;
    case 'flushVni':
      expect(fdb.flushVni(o.vni)).toBe(removeWhere(model, (e) => e.vni === o.vni));
      break;
    case 'age': {
      const expired = (e: Entry) => !e.pinned && now.t - e.seen >= o.maxAge;
      if (o.budget === 'all') {
        expect(fdb.age(now.t, o.maxAge, fdb.slotCount)).toBe(removeWhere(model, expired));
        break;
      }
      // A bounded sweep removes some expired entries and nothing else.
      const n = fdb.age(now.t, o.maxAge, o.budget);
      const present = new Set(fdb.dump().map(keyOf));
      const gone = [...model].filter(([key]) => !present.has(key));
      expect(gone.length).toBe(n);
      for (const [key, e] of gone) {
        expect(expired(e)).toBe(true);
        model.delete(key);
      }
    }
  }
}

describe('Fdb vs Map model', () => {
  it('agrees under random operation sequences', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 3, 8, 16), fc.array(opArb, { minLength: 1, maxLength: 200 }), (capacity, ops) => {
        const fdb = new Fdb(capacity);
        const model = new Map<string, Entry & Key>();
        const now = { t: 0 };
        for (const o of ops) {
          step(fdb, model, capacity, now, o);
          check(fdb, model, capacity);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a full-sweep age is exact even over a wrapped cluster at a moving cursor', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 100 })), { maxLength: 64 }), fc.integer({ min: 0, max: 127 }), (items, skip) => {
        const fdb = new Fdb(64);
        const model = new Map<string, Entry & Key>();
        for (const [lo, seen] of items) {
          fdb.learn(7, 0x0200, lo, 1, seen);
          model.set(keyOf({ vni: 7, hi: 0x0200, lo }), { vni: 7, hi: 0x0200, lo, peer: 1, seen, pinned: false });
        }
        fdb.age(0, 1e9, skip);
        const want = removeWhere(model, (e) => 100 - e.seen >= 50);
        expect(fdb.age(100, 50, fdb.slotCount)).toBe(want);
        check(fdb, model, 64);
      }),
      { numRuns: 300 },
    );
  });
});
