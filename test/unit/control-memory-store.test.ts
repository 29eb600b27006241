/** The in-memory KvStore must itself honour the interface, or tests built on it prove nothing. */
import { describe, it, expect } from 'vitest';
import { MemoryStore } from '../helpers/memory-store.js';
import { FakeClock } from '../fakes/fake-clock.js';
import type { WatchEvent } from '../../src/control/store/kv-store.js';
import { isOvnError } from '../../src/lib/errors.js';

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('MemoryStore', () => {
  it('bumps one store-wide index on every write; CAS and conditional delete follow modifyIndex', async () => {
    const s = new MemoryStore();
    const i1 = await s.put('a', '1');
    const i2 = await s.put('b', '2');
    expect(i2).toBeGreaterThan(i1);
    expect(await s.cas('a', 'x', 0)).toBeUndefined();
    expect(await s.cas('c', '3', 0)).toBe(i2 + 1);
    expect(await s.cas('a', 'x', i2)).toBeUndefined();
    const i4 = (await s.cas('a', 'x', i1))!;
    expect(await s.get('a')).toEqual({ key: 'a', value: 'x', modifyIndex: i4 });
    expect(await s.delete('a', i1)).toBe(false);
    expect(await s.delete('a', i4)).toBe(true);
    expect(await s.delete('a')).toBe(false);
    expect(s.index).toBe(i4 + 1);
    expect(await s.list('')).toEqual({ entries: [{ key: 'b', value: '2', modifyIndex: i2 }, { key: 'c', value: '3', modifyIndex: i2 + 1 }], index: i4 + 1 });
  });

  it('lists by prefix in key order; results are copies', async () => {
    const s = new MemoryStore();
    await s.put('p/b', '2');
    await s.put('p/a', '1');
    await s.put('q/a', '3');
    const l = await s.list('p/');
    expect(l.entries.map((e) => e.key)).toEqual(['p/a', 'p/b']);
    l.entries[0].value = 'mutated';
    expect((await s.get('p/a'))!.value).toBe('1');
  });

  it('watch: reset first, then puts and deletes in order, only under the prefix, until aborted', async () => {
    const s = new MemoryStore();
    await s.put('w/a', '1');
    const events: WatchEvent[] = [];
    const ac = new AbortController();
    s.watch('w/', (e) => events.push(e), { signal: ac.signal });
    await s.put('w/b', '2');
    await s.put('x/c', '3');
    await s.delete('w/a');
    await settle();
    expect(events.map((e) => e.type)).toEqual(['reset', 'put', 'delete']);
    expect(events[0]).toMatchObject({ type: 'reset', entries: [{ key: 'w/a', value: '1' }] });
    expect(events[1]).toMatchObject({ type: 'put', entry: { key: 'w/b', value: '2' } });
    expect(events[2]).toMatchObject({ type: 'delete', key: 'w/a' });
    expect(events.map((e) => e.index)).toEqual([...events.map((e) => e.index)].sort((a, b) => a - b));
    ac.abort();
    await s.put('w/z', '9');
    await settle();
    expect(events).toHaveLength(3);
  });

  it('an outage rejects calls, tells watchers, and a recovery re-lists with a reset', async () => {
    const s = new MemoryStore();
    await s.put('w/a', '1');
    const events: string[] = [];
    const errors: unknown[] = [];
    s.watch('w/', (e) => events.push(e.type), { signal: new AbortController().signal, onError: (e) => errors.push(e) });
    await settle();
    s.setReachable(false);
    const err = await s.get('w/a').then(() => undefined, (e: unknown) => e);
    expect(isOvnError(err, 'OVN_ERR_STORE_UNREACHABLE')).toBe(true);
    s.setReachable(true);
    await settle();
    expect(errors).toHaveLength(1);
    expect(events).toEqual(['reset', 'reset']);
  });

  it('register: the key lives while kept alive, expires TTL after the keep-alive stops, then `lost` resolves', async () => {
    const clock = new FakeClock(0);
    const s = new MemoryStore({ clock });
    const reg = await s.register('h/a', 'me', 10);
    let lost = false;
    void reg.lost.then(() => { lost = true; });
    clock.advance(60_000);
    expect((await s.get('h/a'))?.value).toBe('me');
    s.suspendKeepAlive('h/a');
    clock.advance(9_999);
    expect(await s.get('h/a')).toBeDefined();
    clock.advance(1);
    await settle();
    expect(await s.get('h/a')).toBeUndefined();
    expect(lost).toBe(true);
  });

  it('register: release deletes at once and is not a loss; an outage longer than the TTL loses it', async () => {
    const clock = new FakeClock(0);
    const s = new MemoryStore({ clock });
    const a = await s.register('h/a', '1', 5);
    let aLost = false;
    void a.lost.then(() => { aLost = true; });
    await a.release();
    await settle();
    expect(await s.get('h/a')).toBeUndefined();
    expect(aLost).toBe(false);

    const b = await s.register('h/b', '2', 5);
    let bLost = false;
    void b.lost.then(() => { bLost = true; });
    s.setReachable(false);
    clock.advance(4_000);
    s.setReachable(true); // back within the TTL: keep-alive resumes
    clock.advance(10_000);
    expect(await s.get('h/b')).toBeDefined();
    s.setReachable(false);
    clock.advance(5_000);
    s.setReachable(true);
    await settle();
    expect(await s.get('h/b')).toBeUndefined();
    expect(bLost).toBe(true);
  });

  it('register is refused while another live registration holds the key; a plain delete unbinds it', async () => {
    const clock = new FakeClock(0);
    const s = new MemoryStore({ clock });
    const first = await s.register('h/a', 'first', 5);
    const refused = await s.register('h/a', 'second', 5).then(() => undefined, (e: unknown) => e);
    expect(isOvnError(refused, 'OVN_ERR_STORE_CONFLICT')).toBe(true);
    expect(await s.delete('h/a')).toBe(true);
    const second = await s.register('h/a', 'second', 5);
    await first.release(); // no longer bound to h/a: must not delete the second one's key
    expect((await s.get('h/a'))?.value).toBe('second');
    await second.release();
    expect(await s.get('h/a')).toBeUndefined();
  });

  it('checks arguments like the real backends', async () => {
    const s = new MemoryStore();
    for (const p of [s.get(''), s.put('', 'v'), s.cas('k', 'v', -1), s.delete('k', 1.5), s.register('k', 'v', 0)]) {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(isOvnError(e, 'OVN_ERR_INVALID')).toBe(true);
    }
  });
});
