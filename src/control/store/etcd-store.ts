/**
 * KvStore over etcd v3 (the etcd3 gRPC client). Index = etcd revision: header.revision for
 * listings, mod_revision for entries. CAS is a transaction comparing mod_revision (create
 * revision 0 for "only if absent"); registrations are leases renewed by our own keep-alive loop
 * (so every backend loses registrations by the same rules).
 */
import { Etcd3, EtcdLeaseInvalidError, EtcdPermissionDeniedError, isRecoverableError, type IKeyValue } from 'etcd3';
import type { Clock } from '../../lib/clock.js';
import { OvnError, isOvnError } from '../../lib/errors.js';
import type { KvEntry, KvList, KvStore, Registration, WatchEvent } from './kv-store.js';
import { ClientLifetime, KeptAliveRegistration } from './keep-alive.js';
import { checkIndex, checkKey, checkTtl, conflict } from './store-args.js';
import { runWatchLoop } from './watch-loop.js';
import { etcdWatchSession } from './etcd-watch.js';

export interface EtcdStoreOptions {
  host: string;
  port: number;
  secure: boolean;
  ca?: Buffer;
  clock: Clock;
  requestTimeoutMs: number;
}

export function etcdEntry(kv: IKeyValue): KvEntry {
  return { key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), modifyIndex: Number(kv.mod_revision) };
}

export function toEtcdError(err: unknown, what: string, url: string): OvnError {
  if (isOvnError(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (err instanceof EtcdPermissionDeniedError) return new OvnError('OVN_ERR_PERMISSION', `${what} at ${url}: ${msg}`, { cause: err });
  if (err instanceof Error && !isRecoverableError(err) && !/unavailable|connect|deadline|cancel/i.test(msg)) {
    return new OvnError('OVN_ERR_STORE_PROTOCOL', `${what} at ${url}: ${msg}`, { cause: err });
  }
  return new OvnError('OVN_ERR_STORE_UNREACHABLE', `${what} at ${url}: ${msg}`, { cause: err, retryable: true });
}

export class EtcdStore implements KvStore {
  readonly url: string;
  readonly #client: Etcd3;
  readonly #opts: EtcdStoreOptions;
  readonly #lifetime = new ClientLifetime();

  constructor(opts: EtcdStoreOptions) {
    this.#opts = opts;
    this.url = `${opts.secure ? 'etcds' : 'etcd'}://${opts.host}:${opts.port}`;
    const scheme = opts.secure ? 'https' : 'http';
    this.#client = new Etcd3({
      hosts: `${scheme}://${opts.host}:${opts.port}`,
      credentials: opts.secure && opts.ca ? { rootCertificate: opts.ca } : undefined,
      dialTimeout: opts.requestTimeoutMs,
      // Streams (watch, keep-alive) live long; unary calls get a deadline so outages surface.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + opts.requestTimeoutMs }),
    });
  }

  /** The underlying client, for the watch session. */
  get client(): Etcd3 {
    return this.#client;
  }

  async get(key: string): Promise<KvEntry | undefined> {
    checkKey(key);
    const res = await this.#call('get', () => this.#client.get(key).exec());
    return res.kvs[0] ? etcdEntry(res.kvs[0]) : undefined;
  }

  async list(prefix: string): Promise<KvList> {
    const res = await this.#call('list', () => this.#client.getAll().prefix(prefix).exec());
    return { entries: res.kvs.map(etcdEntry), index: Number(res.header.revision) };
  }

  async put(key: string, value: string): Promise<number> {
    checkKey(key);
    const res = await this.#call('put', () => this.#client.put(key).value(value).exec());
    return Number(res.header.revision);
  }

  async cas(key: string, value: string, expectIndex: number): Promise<number | undefined> {
    checkKey(key);
    checkIndex(expectIndex);
    const txn = expectIndex === 0
      ? this.#client.if(key, 'Create', '==', 0)
      : this.#client.if(key, 'Mod', '==', expectIndex);
    const res = await this.#call('cas', () => txn.then(this.#client.put(key).value(value)).commit());
    return res.succeeded ? Number(res.header.revision) : undefined;
  }

  async delete(key: string, expectIndex?: number): Promise<boolean> {
    checkKey(key);
    if (expectIndex === undefined) {
      const res = await this.#call('delete', () => this.#client.delete().key(key).exec());
      return Number(res.deleted) > 0;
    }
    checkIndex(expectIndex);
    if (expectIndex === 0) return false;
    const res = await this.#call('delete', () => this.#client.if(key, 'Mod', '==', expectIndex).then(this.#client.delete().key(key)).commit());
    return res.succeeded && Number(res.responses[0]?.response_delete_range?.deleted ?? 0) > 0;
  }

  watch(prefix: string, onEvent: (e: WatchEvent) => void, opts: { signal: AbortSignal; onError?: (err: unknown) => void }): void {
    const signal = this.#lifetime.watchSignal(opts.signal);
    runWatchLoop(this.#opts.clock, (api) => etcdWatchSession(this, prefix, api), onEvent, { ...opts, signal });
  }

  async register(key: string, value: string, ttlSeconds: number): Promise<Registration> {
    checkKey(key);
    checkTtl(ttlSeconds);
    const lease = this.#client.lease(ttlSeconds, { autoKeepAlive: false });
    lease.on('lost', () => {}); // loss is detected by our keep-alive loop; keep the emitter quiet
    const revoke = async (): Promise<void> => { await this.#call('lease revoke', () => lease.revoke()); };
    let ok: boolean;
    try {
      const id = await this.#call('lease grant', () => lease.grant());
      // Like Consul's acquire: take the key unless another live lease holds it.
      const res = await this.#call('register', () => this.#client.if(key, 'Lease', '==', 0)
        .then(this.#client.put(key).value(value).lease(id)).commit());
      ok = res.succeeded;
    } catch (err) {
      await revoke().catch(() => {});
      throw err;
    }
    if (!ok) {
      await revoke().catch(() => {});
      throw conflict(key);
    }
    const reg = new KeptAliveRegistration({
      renew: async () => {
        try {
          await lease.keepaliveOnce();
          return 'alive';
        } catch (err) {
          if (err instanceof EtcdLeaseInvalidError) return 'gone';
          throw toEtcdError(err, 'lease keep-alive', this.url);
        }
      },
      destroy: revoke,
    }, ttlSeconds, this.#opts.clock);
    return this.#lifetime.track(reg);
  }

  async close(): Promise<void> {
    this.#lifetime.close();
    this.#client.close();
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toEtcdError(err, what, this.url);
    }
  }
}
