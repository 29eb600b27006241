/**
 * A store view confined to a key prefix (e.g. "ovnetd/"): callers use short keys, the backend
 * sees prefixed ones, so several deployments can share one Consul or etcd.
 */
import type { KvEntry, KvList, KvStore, Registration, WatchEvent } from './kv-store.js';
import { checkKey } from './store-args.js';

export function withKeyPrefix(inner: KvStore, prefix: string): KvStore {
  if (prefix === '') return inner;
  const strip = (e: KvEntry): KvEntry => ({ ...e, key: e.key.slice(prefix.length) });
  const mapEvent = (e: WatchEvent): WatchEvent => {
    switch (e.type) {
      case 'reset': return { ...e, entries: e.entries.map(strip) };
      case 'put': return { ...e, entry: strip(e.entry) };
      case 'delete': return { ...e, key: e.key.slice(prefix.length) };
    }
  };
  // Keys are checked before prefixing: "" must stay invalid, not become the prefix itself.
  const k = async (key: string): Promise<string> => { checkKey(key); return prefix + key; };
  return {
    url: inner.url,
    get: async (key: string) => { const e = await inner.get(await k(key)); return e && strip(e); },
    list: async (p: string): Promise<KvList> => { const l = await inner.list(prefix + p); return { ...l, entries: l.entries.map(strip) }; },
    put: async (key: string, value: string) => inner.put(await k(key), value),
    cas: async (key: string, value: string, expectIndex: number) => inner.cas(await k(key), value, expectIndex),
    delete: async (key: string, expectIndex?: number) => inner.delete(await k(key), expectIndex),
    watch: (p, onEvent, opts) => inner.watch(prefix + p, (e) => onEvent(mapEvent(e)), opts),
    register: async (key: string, value: string, ttl: number): Promise<Registration> => inner.register(await k(key), value, ttl),
    close: () => inner.close(),
  };
}
