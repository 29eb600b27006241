/**
 * The KvStore contract: one suite, run against every backend (embedded, etcd, real Consul).
 * Each test works under its own random key prefix, so backends may be shared between tests
 * and with other users (a real Consul).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { KvEntry, KvStore, Registration, WatchEvent } from '../../src/control/store/kv-store.js';
import { pauseKeepAliveForTest } from '../../src/control/store/keep-alive.js';

export interface ContractOptions {
  /** Registration TTL to use; the backend must accept it (Consul's minimum is 10 s). Default 2. */
  ttlSeconds?: number;
  /** How late, in TTLs, the backend may expire a registration (Consul: up to 2). Default 1. */
  expiryFactor?: number;
  /** Stops and restarts the server on the same address and data; enables the restart test. */
  restartServer?: () => Promise<void>;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Rejects if `p` does not settle within `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A watch whose events are recorded and folded into a model of the prefix's content. */
class Recorder {
  readonly events: WatchEvent[] = [];
  readonly errors: unknown[] = [];
  readonly model = new Map<string, string>();
  readonly ac = new AbortController();

  constructor(store: KvStore, prefix: string) {
    store.watch(prefix, (e) => this.#apply(e), { signal: this.ac.signal, onError: (err) => this.errors.push(err) });
  }

  #apply(e: WatchEvent): void {
    this.events.push(e);
    if (e.type === 'reset') {
      this.model.clear();
      for (const x of e.entries) this.model.set(x.key, x.value);
    } else if (e.type === 'put') {
      this.model.set(e.entry.key, e.entry.value);
    } else {
      this.model.delete(e.key);
    }
  }

  resets(): number {
    return this.events.filter((e) => e.type === 'reset').length;
  }

  async next(pred: (e: WatchEvent) => boolean, what: string, timeoutMs = 10_000): Promise<WatchEvent> {
    await waitFor(() => this.events.some(pred), timeoutMs, what);
    return this.events.find(pred)!;
  }

  stop(): void {
    this.ac.abort();
  }
}

const sorted = (entries: KvEntry[]): KvEntry[] => [...entries].sort((a, b) => a.key.localeCompare(b.key));

export function describeStoreContract(name: string, makeStore: () => Promise<KvStore>, opts: ContractOptions = {}): void {
  const ttl = opts.ttlSeconds ?? 2;
  const expiryMs = ttl * 1000 * (opts.expiryFactor ?? 1);

  describe(`KvStore contract: ${name}`, () => {
    const opened: KvStore[] = [];
    const recorders: Recorder[] = [];
    const registrations: Registration[] = [];
    let p = '';

    const open = async (): Promise<KvStore> => {
      const s = await makeStore();
      opened.push(s);
      return s;
    };
    const record = (store: KvStore, prefix: string): Recorder => {
      const r = new Recorder(store, prefix);
      recorders.push(r);
      return r;
    };
    const register = async (store: KvStore, key: string, value: string): Promise<Registration> => {
      const reg = await store.register(key, value, ttl);
      registrations.push(reg);
      return reg;
    };

    // A fresh prefix per test: tests never see each other's keys.
    const fresh = (): string => { p = `contract-${randomBytes(4).toString('hex')}/`; return p; };

    afterEach(async () => {
      for (const r of recorders.splice(0)) r.stop();
      for (const reg of registrations.splice(0)) await reg.release().catch(() => {});
      const stores = opened.splice(0);
      if (stores[0] && p) {
        // Leave a shared backend (a real Consul) as we found it.
        const left = await stores[0].list(p).catch(() => ({ entries: [] }));
        for (const e of left.entries) await stores[0].delete(e.key).catch(() => {});
      }
      for (const s of stores) await s.close();
      p = '';
    });

    it('names its backend in url', async () => {
      const s = await open();
      expect(s.url).toMatch(/^(consul|consuls|etcd|etcds):\/\/[^/]+:\d+$/);
    });

    it('get of a missing key is undefined; put returns the index that get and list report', async () => {
      const s = await open();
      fresh();
      expect(await s.get(`${p}missing`)).toBeUndefined();
      const i1 = await s.put(`${p}a`, 'one');
      const i2 = await s.put(`${p}b`, 'two');
      expect(i1).toBeGreaterThan(0);
      expect(i2).toBeGreaterThan(i1);
      expect(await s.get(`${p}a`)).toEqual({ key: `${p}a`, value: 'one', modifyIndex: i1 });
      const list = await s.list(p);
      expect(sorted(list.entries)).toEqual([
        { key: `${p}a`, value: 'one', modifyIndex: i1 },
        { key: `${p}b`, value: 'two', modifyIndex: i2 },
      ]);
      expect(list.index).toBeGreaterThanOrEqual(i2);
    });

    it('lists only keys under the prefix, and an empty prefix listing still has an index', async () => {
      const s = await open();
      fresh();
      await s.put(`${p}in/x`, '1');
      await s.put(`${p}inside`, '2');
      await s.put(`${p}out/y`, '3');
      const l = await s.list(`${p}in/`);
      expect(l.entries.map((e) => e.key)).toEqual([`${p}in/x`]);
      const empty = await s.list(`${p}nothing/`);
      expect(empty.entries).toEqual([]);
      expect(empty.index).toBeGreaterThan(0);
    });

    it('indexes grow monotonically across writes and listings', async () => {
      const s = await open();
      fresh();
      let last = 0;
      for (let n = 0; n < 6; n++) {
        const i = await s.put(`${p}k${n % 2}`, String(n));
        expect(i).toBeGreaterThan(last);
        const l = await s.list(p);
        expect(l.index).toBeGreaterThanOrEqual(i);
        last = i;
      }
    });

    it('stores values exactly: empty, unicode, JSON, large', async () => {
      const s = await open();
      fresh();
      const values = ['', 'π ✓ ünïcødé 🙂', JSON.stringify({ a: [1, 2], b: 'x"y' }), 'x'.repeat(100_000)];
      for (const [n, v] of values.entries()) {
        await s.put(`${p}v${n}`, v);
        expect((await s.get(`${p}v${n}`))?.value).toBe(v);
      }
    });

    it('round-trips keys with spaces, unicode and URL metacharacters', async () => {
      const s = await open();
      fresh();
      const keys = [`${p}with space`, `${p}ünï/cødé`, `${p}q?x=1&y#frag`, `${p}pct%2F20`];
      for (const [n, k] of keys.entries()) await s.put(k, String(n));
      for (const [n, k] of keys.entries()) expect((await s.get(k))?.value).toBe(String(n));
      expect((await s.list(p)).entries.map((e) => e.key).sort()).toEqual([...keys].sort());
    });

    it('cas with expectIndex 0 creates only when absent', async () => {
      const s = await open();
      fresh();
      const i = await s.cas(`${p}c`, 'first', 0);
      expect(i).toBeGreaterThan(0);
      expect(await s.cas(`${p}c`, 'second', 0)).toBeUndefined();
      expect(await s.get(`${p}c`)).toEqual({ key: `${p}c`, value: 'first', modifyIndex: i });
    });

    it('cas succeeds on the current index and conflicts on a stale one', async () => {
      const s = await open();
      fresh();
      const i1 = await s.put(`${p}c`, 'v1');
      const i2 = await s.cas(`${p}c`, 'v2', i1);
      expect(i2).toBeGreaterThan(i1);
      expect(await s.cas(`${p}c`, 'v3', i1)).toBeUndefined();
      expect(await s.cas(`${p}missing`, 'v', i1)).toBeUndefined();
      expect(await s.get(`${p}c`)).toEqual({ key: `${p}c`, value: 'v2', modifyIndex: i2 });
    });

    it('10 concurrent CAS increments of one counter (two clients, retry loops) end at 10', async () => {
      const [a, b] = [await open(), await open()];
      fresh();
      const key = `${p}counter`;
      let conflicts = 0;
      const increment = async (s: KvStore): Promise<void> => {
        for (;;) {
          const e = await s.get(key);
          const next = String(Number(e?.value ?? '0') + 1);
          if ((await s.cas(key, next, e?.modifyIndex ?? 0)) !== undefined) return;
          conflicts++;
        }
      };
      await Promise.all(Array.from({ length: 10 }, (_, n) => increment(n % 2 ? a : b)));
      expect((await a.get(key))?.value).toBe('10');
      expect(conflicts).toBeGreaterThan(0); // the loops really raced
    });

    it('delete without expectIndex reports whether it deleted', async () => {
      const s = await open();
      fresh();
      expect(await s.delete(`${p}d`)).toBe(false);
      await s.put(`${p}d`, 'x');
      expect(await s.delete(`${p}d`)).toBe(true);
      expect(await s.get(`${p}d`)).toBeUndefined();
      expect(await s.delete(`${p}d`)).toBe(false);
    });

    it('delete with expectIndex deletes only an unchanged key', async () => {
      const s = await open();
      fresh();
      const i1 = await s.put(`${p}d`, 'x');
      const i2 = await s.put(`${p}d`, 'y');
      expect(await s.delete(`${p}d`, i1)).toBe(false);
      expect((await s.get(`${p}d`))?.value).toBe('y');
      expect(await s.delete(`${p}d`, 0)).toBe(false);
      expect(await s.delete(`${p}d`, i2)).toBe(true);
      expect(await s.get(`${p}d`)).toBeUndefined();
      expect(await s.delete(`${p}d`, i2)).toBe(false);
    });

    it('rejects invalid arguments with OVN_ERR_INVALID', async () => {
      const s = await open();
      await expect(s.put('', 'x')).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
      await expect(s.cas('k', 'x', -1)).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
      await expect(s.register('k', 'x', 0)).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
    });

    it('watch: first event is a reset with the content, then puts and deletes in order', async () => {
      const s = await open();
      fresh();
      const iA = await s.put(`${p}w/a`, 'a1');
      await s.put(`${p}w/b`, 'b1');
      const r = record(s, `${p}w/`);
      const first = await r.next(() => true, 'the first event');
      expect(first.type).toBe('reset');
      if (first.type !== 'reset') return;
      expect(sorted(first.entries).map((e) => [e.key, e.value])).toEqual([[`${p}w/a`, 'a1'], [`${p}w/b`, 'b1']]);
      expect(first.index).toBeGreaterThanOrEqual(iA);

      await s.put(`${p}elsewhere`, 'not watched');
      const iC = await s.put(`${p}w/c`, 'c1');
      await r.next((e) => e.type === 'put' && e.entry.key === `${p}w/c`, 'put of c');
      const iA2 = await s.put(`${p}w/a`, 'a2');
      await r.next((e) => e.type === 'put' && e.entry.value === 'a2', 'update of a');
      await s.delete(`${p}w/b`);
      await r.next((e) => e.type === 'delete', 'delete of b');

      const changes = r.events.slice(1);
      expect(changes.map((e) => (e.type === 'put' ? `put ${e.entry.key}=${e.entry.value}` : e.type === 'delete' ? `delete ${e.key}` : 'reset')))
        .toEqual([`put ${p}w/c=c1`, `put ${p}w/a=a2`, `delete ${p}w/b`]);
      const puts = changes.filter((e) => e.type === 'put');
      expect(puts.map((e) => e.type === 'put' && e.entry.modifyIndex)).toEqual([iC, iA2]);
      const indexes = changes.map((e) => e.index);
      expect([...indexes].sort((x, y) => x - y)).toEqual(indexes);
      expect(indexes[0]).toBeGreaterThan(first.index);
      expect(r.errors).toEqual([]);
    });

    it('watch: a burst of writes converges to the store content', async () => {
      const s = await open();
      fresh();
      await s.put(`${p}x0`, 'seed');
      const r = record(s, p);
      await r.next((e) => e.type === 'reset', 'reset');
      for (let n = 0; n < 30; n++) {
        if (n % 4 === 3) await s.delete(`${p}x${n - 1}`);
        else await s.put(`${p}x${n % 7}`, `v${n}`);
      }
      const final = async (): Promise<boolean> => {
        const l = await s.list(p);
        const want = new Map(l.entries.map((e) => [e.key, e.value]));
        return want.size === r.model.size && [...want].every(([k, v]) => r.model.get(k) === v);
      };
      await waitFor(final, 10_000, 'the watch model to match the listing');
    });

    it('watch: aborting stops the events', async () => {
      const s = await open();
      fresh();
      const r = record(s, p);
      await r.next((e) => e.type === 'reset', 'reset');
      await s.put(`${p}one`, '1');
      await r.next((e) => e.type === 'put', 'put');
      r.stop();
      const count = r.events.length;
      await s.put(`${p}two`, '2');
      await new Promise((res) => setTimeout(res, 500));
      expect(r.events.length).toBe(count);
    });

    it('close() ends the watches of that client', async () => {
      const s = await makeStore();
      fresh();
      const r = record(s, p);
      await r.next((e) => e.type === 'reset', 'reset');
      await s.close();
      const [events, errors] = [r.events.length, r.errors.length];
      const other = await open();
      await other.put(`${p}after-close`, 'x');
      await new Promise((res) => setTimeout(res, 1_000));
      expect(r.events.length).toBe(events);
      expect(r.errors.length).toBeLessThanOrEqual(errors + 1); // at most the aborted request, no retry loop
    });

    it.runIf(opts.restartServer)('watch resumes after the server restarts, with a reset', async () => {
      const s = await open();
      fresh();
      await s.put(`${p}before`, 'b');
      const r = record(s, p);
      await r.next((e) => e.type === 'reset', 'first reset');
      await opts.restartServer!();
      await r.next(() => r.resets() >= 2, 'a reset after the restart', 30_000);
      await s.put(`${p}after`, 'a');
      await waitFor(() => r.model.get(`${p}after`) === 'a', 15_000, 'the put after the restart');
      expect(r.model.get(`${p}before`)).toBe('b');
      expect(r.errors.length).toBeGreaterThan(0); // the outage was reported, not thrown
    }, 60_000);

    it('register: the key is present; release deletes it at once', async () => {
      const [a, b] = [await open(), await open()];
      fresh();
      const reg = await register(a, `${p}node`, 'me');
      expect((await b.get(`${p}node`))?.value).toBe('me');
      await reg.release();
      expect(await b.get(`${p}node`)).toBeUndefined();
      await reg.release(); // idempotent
    });

    it('register refuses a key held by another live registration', async () => {
      const [a, b] = [await open(), await open()];
      fresh();
      const reg = await register(a, `${p}node`, 'first');
      await expect(b.register(`${p}node`, 'second', ttl)).rejects.toMatchObject({ code: 'OVN_ERR_STORE_CONFLICT', retryable: true });
      expect((await b.get(`${p}node`))?.value).toBe('first');
      await reg.release();
      await register(b, `${p}node`, 'second');
      expect((await a.get(`${p}node`))?.value).toBe('second');
    });

    it('a kept-alive registration outlives several TTLs', async () => {
      const [a, b] = [await open(), await open()];
      fresh();
      const reg = await register(a, `${p}node`, 'alive');
      let lost = false;
      void reg.lost.then(() => { lost = true; });
      await new Promise((res) => setTimeout(res, expiryMs * 2.5));
      expect((await b.get(`${p}node`))?.value).toBe('alive');
      expect(lost).toBe(false);
    }, 120_000);

    it('a registration whose keep-alive stops disappears after its TTL, and lost resolves', async () => {
      const [a, b] = [await open(), await open()];
      fresh();
      const reg = await register(a, `${p}node`, 'stalling');
      const t0 = Date.now();
      pauseKeepAliveForTest(reg, expiryMs + 3_000);
      await waitFor(async () => (await b.get(`${p}node`)) === undefined, expiryMs + 5_000, 'the stalled registration to expire');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(ttl * 1000 * 0.9);
      await within(reg.lost, expiryMs + 10_000, 'lost');
    }, 120_000);

    it('closing the client without release lets the key expire after its TTL', async () => {
      const [a, b] = [await open(), await open()];
      fresh();
      await a.register(`${p}node`, 'orphan', ttl);
      await a.close();
      opened.splice(opened.indexOf(a), 1);
      expect((await b.get(`${p}node`))?.value).toBe('orphan');
      await waitFor(async () => (await b.get(`${p}node`)) === undefined, expiryMs + 5_000, 'the orphaned registration to expire');
    }, 120_000);
  });
}
