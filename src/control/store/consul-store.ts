/**
 * KvStore over Consul's HTTP API (a real Consul agent, or EmbeddedStoreServer, which speaks the
 * same subset). Writes go through /v1/txn because only its results carry the new ModifyIndex
 * that put()/cas() must return; a PUT /v1/kv answers just true/false. Registrations are a
 * session (TTL, Behavior=delete, LockDelay=0) holding the key via ?acquire.
 */
import Consul from 'consul';
import type { TxnKvOp, TxnKvResult } from 'consul/lib/transaction.js';
import type { GetItem } from 'consul/lib/kv.js';
import { Agent as HttpsAgent } from 'node:https';
import type { Clock } from '../../lib/clock.js';
import type { KvEntry, KvList, KvStore, Registration, WatchEvent } from './kv-store.js';
import { ConsulRequestContext, consulIndex, consulStatus, toStoreError } from './consul-http.js';
import { ClientLifetime, KeptAliveRegistration } from './keep-alive.js';
import { checkIndex, checkKey, checkTtl, conflict } from './store-args.js';
import { runWatchLoop } from './watch-loop.js';
import { consulWatchSession } from './consul-watch.js';

export interface ConsulStoreOptions {
  host: string;
  port: number;
  secure: boolean;
  /** PEM CA bundle contents for TLS (consuls://); system CAs otherwise. */
  ca?: Buffer;
  token?: string;
  clock: Clock;
  /** Longest a blocking query waits on the server before returning unchanged. */
  watchWaitSeconds: number;
  /** Timeout of ordinary (non-blocking) requests. */
  requestTimeoutMs: number;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function toEntry(item: GetItem): KvEntry {
  return { key: item.Key, value: item.Value ?? '', modifyIndex: item.ModifyIndex };
}

export class ConsulStore implements KvStore {
  readonly url: string;
  readonly #client: Consul;
  readonly #opts: ConsulStoreOptions;
  readonly #lifetime = new ClientLifetime();

  constructor(opts: ConsulStoreOptions) {
    this.#opts = opts;
    this.url = `${opts.secure ? 'consuls' : 'consul'}://${opts.host}:${opts.port}`;
    const agent = opts.secure && opts.ca ? new HttpsAgent({ keepAlive: true, ca: opts.ca }) : undefined;
    this.#client = new Consul({
      host: opts.host, port: opts.port, secure: opts.secure, agent,
      defaults: opts.token ? { token: opts.token } : undefined,
    });
  }

  async get(key: string): Promise<KvEntry | undefined> {
    checkKey(key);
    const item = await this.#call('get', () => this.#client.kv.get({ key, timeout: this.#opts.requestTimeoutMs }));
    return item ? toEntry(item) : undefined;
  }

  list(prefix: string): Promise<KvList> {
    return this.listBlocking(prefix);
  }

  /** One (optionally blocking) recursive read; resolves with the listing and X-Consul-Index. */
  async listBlocking(prefix: string, block?: { index: number; signal: AbortSignal }): Promise<KvList> {
    const ctx = new ConsulRequestContext();
    const onAbort = (): void => ctx.cancel();
    block?.signal.addEventListener('abort', onAbort, { once: true });
    const waitS = this.#opts.watchWaitSeconds;
    try {
      const [res, items] = await this.#call('list', () => this.#client.kv.get({
        key: prefix, recurse: true, ctx,
        ...(block ? { index: String(block.index), wait: `${waitS}s`, timeout: waitS * 1000 + (waitS * 1000) / 16 + this.#opts.requestTimeoutMs } : { timeout: this.#opts.requestTimeoutMs }),
      }));
      return { entries: (items ?? []).map(toEntry), index: consulIndex(res) };
    } finally {
      block?.signal.removeEventListener('abort', onAbort);
    }
  }

  async put(key: string, value: string): Promise<number> {
    checkKey(key);
    const r = await this.#txn('put', [{ KV: { Verb: 'set', Key: key, Value: b64(value) } }]);
    return this.#modifyIndexOf(r, 'put');
  }

  async cas(key: string, value: string, expectIndex: number): Promise<number | undefined> {
    checkKey(key);
    checkIndex(expectIndex);
    const r = await this.#txn('cas', [{ KV: { Verb: 'cas', Key: key, Value: b64(value), Index: expectIndex } }]);
    return r ? this.#modifyIndexOf(r, 'cas') : undefined;
  }

  async delete(key: string, expectIndex?: number): Promise<boolean> {
    checkKey(key);
    if (expectIndex !== undefined) checkIndex(expectIndex);
    if (expectIndex === 0) return false; // "only if absent": there is nothing to delete
    // The leading check fails the whole transaction when the key is absent (or changed), which
    // is how we learn whether this call deleted something; a plain DELETE always answers true.
    const check: TxnKvOp = expectIndex === undefined
      ? { KV: { Verb: 'get', Key: key } }
      : { KV: { Verb: 'check-index', Key: key, Index: expectIndex } };
    const r = await this.#txn('delete', [check, { KV: { Verb: 'delete', Key: key } }]);
    return r !== undefined;
  }

  watch(prefix: string, onEvent: (e: WatchEvent) => void, opts: { signal: AbortSignal; onError?: (err: unknown) => void }): void {
    const signal = this.#lifetime.watchSignal(opts.signal);
    runWatchLoop(this.#opts.clock, (api) => consulWatchSession(this, prefix, api), onEvent, { ...opts, signal });
  }

  async register(key: string, value: string, ttlSeconds: number): Promise<Registration> {
    checkKey(key);
    checkTtl(ttlSeconds);
    const timeout = this.#opts.requestTimeoutMs;
    const session = this.#client.session;
    const { ID: id } = await this.#call('session create', () => session.create({
      name: `ovnetd ${key}`, ttl: `${ttlSeconds}s`, behavior: 'delete', lockdelay: '0s', timeout,
    }));
    const destroy = async (): Promise<void> => { await this.#call('session destroy', () => session.destroy({ id, timeout })); };
    let acquired: boolean;
    try {
      acquired = await this.#call('acquire', () => this.#client.kv.set({ key, value, acquire: id, timeout }));
    } catch (err) {
      await destroy().catch(() => {});
      throw err;
    }
    if (!acquired) {
      await destroy().catch(() => {});
      throw conflict(key);
    }
    const reg = new KeptAliveRegistration({
      renew: async () => {
        try {
          await session.renew({ id, timeout });
          return 'alive';
        } catch (err) {
          if (consulStatus(err) === 404) return 'gone';
          throw toStoreError(err, 'session renew', this.url);
        }
      },
      destroy,
    }, ttlSeconds, this.#opts.clock);
    return this.#lifetime.track(reg);
  }

  async close(): Promise<void> {
    this.#lifetime.close();
    this.#client.destroy();
  }

  /** Runs a transaction; undefined when Consul rolled it back (409: a check or CAS failed). */
  async #txn(what: string, ops: TxnKvOp[]): Promise<TxnKvResult | undefined> {
    try {
      return await this.#client.transaction.create(ops, { timeout: this.#opts.requestTimeoutMs });
    } catch (err) {
      if (consulStatus(err) === 409) return undefined;
      throw toStoreError(err, what, this.url);
    }
  }

  #modifyIndexOf(r: TxnKvResult | undefined, what: string): number {
    const idx = r?.Results?.[0]?.KV?.ModifyIndex;
    if (typeof idx !== 'number') throw toStoreError(new Error(`${what}: transaction result lacks ModifyIndex`), what, this.url);
    return idx;
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, what, this.url);
    }
  }
}
