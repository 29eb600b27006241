/**
 * The store contract against a real etcd started by the test (test/helpers/etcd.ts). Without
 * an etcd binary the suite is skipped with the reason in its name, except under CI, where a
 * missing binary is a failure (CI installs etcd-server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { systemClock } from '../../src/lib/clock.js';
import { EtcdStore } from '../../src/control/store/etcd-store.js';
import type { KvList, WatchEvent } from '../../src/control/store/kv-store.js';
import { openStore } from '../../src/control/store/store-url.js';
import { EtcdProcess, findEtcd } from '../helpers/etcd.js';
import { describeStoreContract } from './store-contract.js';

const bin = findEtcd();

/** Its first listing claims revision 1, so the watch that follows starts inside compacted history. */
class StaleFirstList extends EtcdStore {
  private calls = 0;
  override async list(prefix: string): Promise<KvList> {
    const l = await super.list(prefix);
    return this.calls++ === 0 ? { ...l, index: 1 } : l;
  }
}

if (!bin && process.env.CI) {
  describe('KvStore contract: etcd', () => {
    it('needs the etcd binary in CI', () => {
      throw new Error('etcd binary not found (looked at $ETCD_BIN if set, else /usr/bin/etcd, /usr/local/bin/etcd and PATH); install the etcd-server package');
    });
  });
} else if (!bin) {
  console.warn('[etcd contract] SKIPPED: no etcd binary found; install etcd-server (or set ETCD_BIN) to run it');
  describe.skip('KvStore contract: etcd — SKIPPED: no etcd binary ($ETCD_BIN, /usr/bin/etcd, PATH); install etcd-server to run it', () => {
    it('runs the contract against etcd', () => {});
  });
} else {
  let etcd: EtcdProcess | undefined;
  beforeAll(async () => { etcd = await EtcdProcess.start(bin); });
  afterAll(async () => { await etcd?.stop(); });

  describeStoreContract('etcd', () => openStore(etcd!.url, { requestTimeoutMs: 5_000 }), {
    ttlSeconds: 2,
    restartServer: () => etcd!.restart(),
  });

  describe('etcd specifics', () => {
    it('a watch whose start revision was compacted reports the error, re-lists and resets', async () => {
      const store = new StaleFirstList({ host: '127.0.0.1', port: etcd!.clientPort, secure: false, clock: systemClock, requestTimeoutMs: 5_000 });
      const raw = new Etcd3({ hosts: `http://127.0.0.1:${etcd!.clientPort}` });
      const ac = new AbortController();
      try {
        const p = `compact-${Date.now()}/`;
        await store.put(`${p}a`, '1');
        const last = await store.put(`${p}a`, '2');
        await raw.kv.compact({ revision: last, physical: true });
        const events: WatchEvent[] = [];
        const errors: unknown[] = [];
        store.watch(p, (e) => events.push(e), { signal: ac.signal, onError: (err) => errors.push(err) });
        // etcd accepts the watch, then cancels it for compaction: an error, then a fresh reset.
        await waitUntil(() => errors.length > 0 && events.filter((e) => e.type === 'reset').length >= 2);
        expect(String(errors[0])).toMatch(/compact/i);
        const reset = events.filter((e) => e.type === 'reset').at(-1);
        expect(reset?.type === 'reset' && reset.entries.map((e) => e.value)).toEqual(['2']);
        expect(reset?.index).toBeGreaterThanOrEqual(last);
        await store.put(`${p}b`, '3');
        await waitUntil(() => events.some((e) => e.type === 'put' && e.entry.key === `${p}b`));
      } finally {
        ac.abort();
        raw.close();
        await store.close();
      }
    }, 60_000);
  });
}

async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
