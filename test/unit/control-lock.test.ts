import { describe, it, expect } from 'vitest';
import { MemoryStore } from '../helpers/memory-store.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { acquireLock, backoffMs, decodeLock, encodeLock, withLock, LOCK_DEFAULTS, type LockOptions } from '../../src/control/lock.js';
import { isOvnError, type OvnError } from '../../src/lib/errors.js';

const KEY = 'ovnetd/v1/locks/networks';
const WALL0 = Date.parse('2025-01-01T00:00:00Z');

/** Runs p while moving the manual clock in steps, so sleeps inside p elapse without real time. */
async function drive<T>(clock: FakeClock, p: Promise<T>, stepMs = 10, maxSteps = 10_000): Promise<T> {
  let done = false;
  const settled = p.finally(() => { done = true; });
  for (let i = 0; i < maxSteps && !done; i++) {
    for (let j = 0; j < 20; j++) await Promise.resolve();
    if (!done) clock.advance(stepMs);
  }
  return settled;
}

function manual(extra: LockOptions = {}) {
  const clock = new FakeClock(0);
  // Wall time moves with the manual clock, from a fixed epoch.
  const opts: LockOptions = { clock, wallNow: () => WALL0 + clock.now(), random: () => 0.5, ...extra };
  return { clock, opts };
}

describe('store lock', () => {
  it('takes a free lock with create-only CAS and releases it', async () => {
    const store = new MemoryStore();
    const { opts } = manual({ owner: 'me', ttlMs: 1000 });
    const lock = await acquireLock(store, KEY, 'test lock', opts);
    const entry = (await store.get(KEY))!;
    expect(entry.modifyIndex).toBe(lock.modifyIndex);
    expect(decodeLock(entry.value)).toEqual({ version: 1, owner: 'me', expiresAt: WALL0 + 1000 });
    expect(await lock.stillHeld()).toBe(true);
    await lock.release();
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('breaks an expired lock by CAS on its modifyIndex and says whose it was', async () => {
    const store = new MemoryStore();
    await store.put(KEY, encodeLock('dead:1:00', WALL0 - 1));
    const broken: unknown[] = [];
    const { opts } = manual({ owner: 'me', onBreak: (s) => broken.push(s) });
    const lock = await acquireLock(store, KEY, 'test lock', opts);
    expect(broken).toEqual([{ owner: 'dead:1:00', expiresAt: WALL0 - 1 }]);
    expect((decodeLock((await store.get(KEY))!.value) as { owner: string }).owner).toBe('me');
    await lock.release();
  });

  it('breaks a lock whose value is not a lock at all', async () => {
    const store = new MemoryStore();
    await store.put(KEY, 'garbage');
    const broken: unknown[] = [];
    const { opts } = manual({ onBreak: (s) => broken.push(s) });
    await acquireLock(store, KEY, 'test lock', opts);
    expect(broken).toEqual([{ corrupt: 'not JSON' }]);
  });

  it('waits for a live holder, then breaks it once its expiry passes', async () => {
    const store = new MemoryStore();
    await store.put(KEY, encodeLock('slow:2:00', WALL0 + 1_000));
    const { clock, opts } = manual({ deadlineMs: 5_000 });
    const lock = await drive(clock, acquireLock(store, KEY, 'test lock', opts));
    expect(clock.now()).toBeGreaterThanOrEqual(1_000);
    expect(clock.now()).toBeLessThan(1_000 + LOCK_DEFAULTS.maxBackoffMs + 20);
    expect(await lock.stillHeld()).toBe(true);
  });

  it('gives up at the deadline with a retryable OVN_ERR_STORE_CONFLICT naming the holder', async () => {
    const store = new MemoryStore();
    await store.put(KEY, encodeLock('busy:3:00', WALL0 + 60_000));
    const before = store.dump();
    const { clock, opts } = manual({ deadlineMs: 2_000 });
    const err = await drive(clock, acquireLock(store, KEY, 'network-creation lock', opts).then(() => undefined, (e: OvnError) => e));
    expect(isOvnError(err, 'OVN_ERR_STORE_CONFLICT')).toBe(true);
    expect(err!.retryable).toBe(true);
    expect(err!.message).toBe(
      'could not take the network-creation lock (ovnetd/v1/locks/networks) within 2s: held by busy:3:00 until 2025-01-01T00:01:00.000Z; retry, or wait for it to expire');
    expect(clock.now()).toBeGreaterThanOrEqual(2_000);
    expect(clock.now()).toBeLessThan(2_000 + LOCK_DEFAULTS.maxBackoffMs + 20);
    expect(store.dump()).toEqual(before);
  });

  it('a holder whose lock was broken neither still holds it nor deletes the new holder\'s lock', async () => {
    const store = new MemoryStore();
    const { clock, opts } = manual({ ttlMs: 100 });
    const first = await acquireLock(store, KEY, 'test lock', { ...opts, owner: 'first' });
    clock.advance(101);
    const second = await acquireLock(store, KEY, 'test lock', { ...opts, owner: 'second' });
    expect(await first.stillHeld()).toBe(false);
    await first.release();
    expect((decodeLock((await store.get(KEY))!.value) as { owner: string }).owner).toBe('second');
    await second.release();
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('excludes concurrent holders (withLock), releasing even when the body throws', async () => {
    const store = new MemoryStore();
    let inside = 0;
    let maxInside = 0;
    const body = async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      for (let i = 0; i < 5; i++) await Promise.resolve();
      inside--;
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => withLock(store, KEY, 'test lock', { owner: `p${i}` }, body)));
    expect(maxInside).toBe(1);
    await expect(withLock(store, KEY, 'test lock', {}, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(0, () => 0)).toBe(LOCK_DEFAULTS.firstBackoffMs / 2);
    expect(backoffMs(0, () => 1)).toBe(LOCK_DEFAULTS.firstBackoffMs);
    expect(backoffMs(3, () => 0.5)).toBe(LOCK_DEFAULTS.firstBackoffMs * 8 * 0.75);
    expect(backoffMs(50, () => 1)).toBe(LOCK_DEFAULTS.maxBackoffMs);
    expect(backoffMs(50, () => 0)).toBe(LOCK_DEFAULTS.maxBackoffMs / 2);
  });

  it('decodeLock refuses what is not a v1 lock', () => {
    expect(decodeLock('{"version":1,"owner":"a","expiresAt":5}')).toEqual({ version: 1, owner: 'a', expiresAt: 5 });
    expect(decodeLock('null')).toBe('not a JSON object');
    expect(decodeLock('{"version":2,"owner":"a","expiresAt":5}')).toBe('not a version 1 lock document');
    expect(decodeLock('{"version":1,"owner":"a","expiresAt":"5"}')).toBe('not a version 1 lock document');
  });
});
