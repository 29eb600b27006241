import { describe, it, expect } from 'vitest';
import {
  Fdb, LEARN_FULL, LEARN_MOVED, LEARN_MULTICAST, LEARN_NEW, LEARN_PINNED, LEARN_REFRESHED,
} from '../../src/dataplane/fdb.js';

const HI = 0x0242;
const mac = (n: number) => ({ hi: HI, lo: (0x0a000000 + n) >>> 0 });

describe('Fdb basics', () => {
  it('sizes slots to a power of two >= 2x capacity and validates capacity', () => {
    expect(new Fdb(16).slotCount).toBe(32);
    expect(new Fdb(100).slotCount).toBe(256);
    expect(new Fdb().capacity).toBe(65_536);
    for (const bad of [0, -1, 1.5, NaN]) expect(() => new Fdb(bad)).toThrow();
  });

  it('learns, refreshes, moves and looks up per (VNI, MAC)', () => {
    const f = new Fdb(16);
    const a = mac(1);
    expect(f.lookup(10, a.hi, a.lo)).toBe(-1);
    expect(f.learn(10, a.hi, a.lo, 3, 100)).toBe(LEARN_NEW);
    expect(f.lookup(10, a.hi, a.lo)).toBe(3);
    expect(f.lookup(11, a.hi, a.lo)).toBe(-1);
    expect(f.learn(10, a.hi, a.lo, 3, 200)).toBe(LEARN_REFRESHED);
    expect(f.get(10, a.hi, a.lo)?.lastSeen).toBe(200);
    expect(f.learn(10, a.hi, a.lo, 4, 300)).toBe(LEARN_MOVED);
    expect(f.lookup(10, a.hi, a.lo)).toBe(4);
    expect(f.size).toBe(1);
  });

  it('accepts a signed lo and the top bit of lo', () => {
    const f = new Fdb(16);
    f.learn(1, 0x0200, 0xfffffffe, 1, 0);
    expect(f.lookup(1, 0x0200, 0xfffffffe | 0)).toBe(1);
  });

  it('never learns a multicast source', () => {
    const f = new Fdb(16);
    expect(f.learn(10, 0x0100, 0x5e000001, 1, 0)).toBe(LEARN_MULTICAST);
    expect(f.learn(10, 0xffff, 0xffffffff, 1, 0)).toBe(LEARN_MULTICAST);
    expect(f.size).toBe(0);
  });

  it('at capacity stops learning new sources but refreshes and moves known ones', () => {
    const f = new Fdb(4);
    for (let i = 0; i < 4; i++) expect(f.learn(1, HI, i, 1, 0)).toBe(LEARN_NEW);
    expect(f.learn(1, HI, 99, 1, 0)).toBe(LEARN_FULL);
    expect(f.lookup(1, HI, 99)).toBe(-1);
    expect(f.learn(1, HI, 2, 1, 5)).toBe(LEARN_REFRESHED);
    expect(f.learn(1, HI, 3, 2, 5)).toBe(LEARN_MOVED);
    expect(f.size).toBe(4);
    f.remove(1, HI, 0);
    expect(f.learn(1, HI, 99, 1, 0)).toBe(LEARN_NEW);
  });
});

describe('Fdb pinning', () => {
  it('pin replaces a learned entry; learning never changes a pinned one', () => {
    const f = new Fdb(8);
    f.learn(1, HI, 5, 1, 0);
    expect(f.pin(1, HI, 5, 2)).toBeNull();
    expect(f.lookup(1, HI, 5)).toBe(2);
    expect(f.learn(1, HI, 5, 1, 10)).toBe(LEARN_PINNED);
    expect(f.learn(1, HI, 5, 2, 10)).toBe(LEARN_REFRESHED);
    expect(f.get(1, HI, 5)).toMatchObject({ peer: 2, pinned: true, lastSeen: 0 });
    expect(f.pinnedCount).toBe(1);
    expect(f.pin(1, HI, 5, 3)).toBeNull();
    expect(f.pinnedCount).toBe(1);
    expect(f.lookup(1, HI, 5)).toBe(3);
  });

  it('unpin removes pinned entries only', () => {
    const f = new Fdb(8);
    f.learn(1, HI, 1, 1, 0);
    f.pin(1, HI, 2, 1);
    expect(f.unpin(1, HI, 1)).toBe(false);
    expect(f.unpin(1, HI, 2)).toBe(true);
    expect(f.unpin(1, HI, 2)).toBe(false);
    expect(f.lookup(1, HI, 1)).toBe(1);
    expect(f.pinnedCount).toBe(0);
  });

  it('at capacity, pin evicts the least recently seen learned entry', () => {
    const f = new Fdb(4);
    f.learn(1, HI, 1, 1, 300);
    f.learn(1, HI, 2, 1, 100);
    f.learn(1, HI, 3, 1, 200);
    f.pin(1, HI, 4, 1, 0);
    const evicted = f.pin(1, HI, 5, 2, 400);
    expect(evicted).toMatchObject({ vni: 1, lo: 2, lastSeen: 100, pinned: false });
    expect(f.lookup(1, HI, 2)).toBe(-1);
    expect(f.lookup(1, HI, 5)).toBe(2);
    expect(f.size).toBe(4);
    expect(f.pin(1, HI, 6, 2)).toMatchObject({ lo: 3 });
    expect(f.pin(1, HI, 7, 2)).toMatchObject({ lo: 1 });
    expect(() => f.pin(1, HI, 8, 2)).toThrow(expect.objectContaining({ code: 'OVN_ERR_CAPACITY' }));
    expect(f.size).toBe(4);
    expect(f.learn(1, HI, 9, 1, 0)).toBe(LEARN_FULL);
  });
});

describe('Fdb flushing and ageing', () => {
  function filled(): Fdb {
    const f = new Fdb(64);
    for (let i = 0; i < 30; i++) f.learn(i % 3, HI, i, i % 5, i);
    f.pin(0, HI, 1000, 2);
    return f;
  }

  it('flushPeer removes the peer\'s entries (pinned unless told not to)', () => {
    const f = filled();
    expect(f.flushPeer(2, false)).toBe(6);
    expect(f.lookup(0, HI, 1000)).toBe(2);
    expect(f.flushPeer(2)).toBe(1);
    expect(f.dump().some((e) => e.peer === 2)).toBe(false);
    expect(f.size).toBe(24);
  });

  it('flushPeerInVnis and flushVni remove exactly their entries', () => {
    const f = filled();
    const before = f.dump();
    const n = f.flushPeerInVnis(1, [0, 2]);
    const after = f.dump();
    expect(n).toBe(before.filter((e) => e.peer === 1 && e.vni !== 1).length);
    expect(after.every((e) => !(e.peer === 1 && e.vni !== 1))).toBe(true);
    expect(f.flushVni(0)).toBe(after.filter((e) => e.vni === 0).length);
    expect(f.dump().every((e) => e.vni !== 0)).toBe(true);
    for (const e of f.dump()) expect(f.lookup(e.vni, e.hi, e.lo)).toBe(e.peer);
  });

  it('age removes expired learned entries, keeps pinned ones, and is bounded per call', () => {
    const f = new Fdb(64);
    for (let i = 0; i < 40; i++) f.learn(1, HI, i, 1, i < 20 ? 0 : 500);
    f.pin(1, HI, 100, 1, 0);
    expect(f.age(999, 1000, f.slotCount)).toBe(0);
    let removed = 0;
    for (let step = 0; step < f.slotCount; step++) {
      const r = f.age(1000, 600, 1);
      expect(r).toBeLessThanOrEqual(f.slotCount);
      removed += r;
    }
    expect(removed).toBe(20);
    expect(f.size).toBe(21);
    expect(f.lookup(1, HI, 100)).toBe(1);
    for (let i = 20; i < 40; i++) expect(f.lookup(1, HI, i)).toBe(1);
    expect(f.age(1e9, 1, 0)).toBe(0);
  });

  it('expiry is now - lastSeen >= maxAge', () => {
    const f = new Fdb(4);
    f.learn(1, HI, 1, 1, 1000);
    expect(f.age(1999, 1000, f.slotCount)).toBe(0);
    expect(f.age(2000, 1000, f.slotCount)).toBe(1);
  });

  it('deletion keeps every colliding key reachable (dense table)', () => {
    const f = new Fdb(512);
    for (let i = 0; i < 512; i++) f.learn(i & 7, HI, i * 7919, i & 15, i);
    for (let i = 0; i < 512; i += 3) expect(f.remove(i & 7, HI, i * 7919)).toBe(true);
    for (let i = 0; i < 512; i++) expect(f.lookup(i & 7, HI, i * 7919)).toBe(i % 3 === 0 ? -1 : i & 15);
    f.clear();
    expect(f.size).toBe(0);
    expect(f.lookup(1, HI, 7919)).toBe(-1);
  });
});
