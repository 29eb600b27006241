/**
 * An in-memory KvStore for unit tests and simulations, faithful to the comments of
 * src/control/store/kv-store.ts and to what the Consul and etcd backends do:
 * - one store-wide index, bumped by every write; an entry's modifyIndex is the index of its last
 *   write (never 0, so cas(..., 0) means "only if absent"); delete of an absent key is false;
 * - arguments are checked with the backends' own store-args checks;
 * - every call resolves asynchronously, so concurrent callers interleave at each await as they
 *   would against a real server (the operation itself takes effect at the call);
 * - watch: a 'reset' with the full prefix first, then 'put'/'delete' in write order; after an
 *   outage (setReachable(false) ... true) a fresh 'reset';
 * - register: like Consul's acquire / etcd's lease-guarded put, refused (OVN_ERR_STORE_CONFLICT)
 *   while another live registration holds the key. The key lives while its keep-alive runs;
 *   keep-alives stop on suspendKeepAlive(), during an outage and on close(), and the key is
 *   deleted TTL later on the injected clock, resolving `lost`. A plain put/cas/delete of the key
 *   unbinds it from the registration (etcd semantics), which then no longer deletes it.
 */
import { OvnError } from '../../src/lib/errors.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import type { KvEntry, KvList, KvStore, Registration, WatchEvent } from '../../src/control/store/kv-store.js';
import { checkIndex, checkKey, checkTtl, conflict } from '../../src/control/store/store-args.js';

interface Watcher {
  prefix: string;
  onEvent: (e: WatchEvent) => void;
  onError?: (err: unknown) => void;
  signal: AbortSignal;
  /** Missed events during an outage: a reset is owed on recovery. */
  stale: boolean;
}

interface Lease {
  key: string;
  ttlMs: number;
  suspended: boolean;
  timer: unknown;
  ended: boolean;
  lost: () => void;
}

export class MemoryStore implements KvStore {
  readonly url: string;
  readonly #clock: Clock;
  readonly #entries = new Map<string, KvEntry>();
  readonly #watchers = new Set<Watcher>();
  /** Live registrations. */
  readonly #leases = new Set<Lease>();
  /** Key -> the registration it is bound to. */
  readonly #bound = new Map<string, Lease>();
  #index = 0;
  #reachable = true;
  #closed = false;
  /** Write calls (put/cas/delete), successful or not: for tests that count traffic. */
  writes = 0;

  constructor(opts: { clock?: Clock; url?: string } = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.url = opts.url ?? 'memory://test';
  }

  /** Current store index. */
  get index(): number {
    return this.#index;
  }

  /** Synchronous copy of all entries under prefix, sorted by key: compare before/after. */
  dump(prefix = ''): KvEntry[] {
    return [...this.#entries.values()].filter((e) => e.key.startsWith(prefix)).sort(byKey).map((e) => ({ ...e }));
  }

  async get(key: string): Promise<KvEntry | undefined> {
    checkKey(key);
    await this.#enter();
    const e = this.#entries.get(key);
    return e && { ...e };
  }

  async list(prefix: string): Promise<KvList> {
    await this.#enter();
    return { entries: this.dump(prefix), index: this.#index };
  }

  async put(key: string, value: string): Promise<number> {
    checkKey(key);
    await this.#enter();
    this.writes++;
    this.#bound.delete(key);
    return this.#write(key, value);
  }

  async cas(key: string, value: string, expectIndex: number): Promise<number | undefined> {
    checkKey(key);
    checkIndex(expectIndex);
    await this.#enter();
    this.writes++;
    const cur = this.#entries.get(key);
    if ((cur?.modifyIndex ?? 0) !== expectIndex) return undefined;
    this.#bound.delete(key);
    return this.#write(key, value);
  }

  async delete(key: string, expectIndex?: number): Promise<boolean> {
    checkKey(key);
    if (expectIndex !== undefined) checkIndex(expectIndex);
    await this.#enter();
    this.writes++;
    const cur = this.#entries.get(key);
    if (!cur || (expectIndex !== undefined && cur.modifyIndex !== expectIndex)) return false;
    this.#bound.delete(key);
    this.#remove(key);
    return true;
  }

  watch(prefix: string, onEvent: (e: WatchEvent) => void, opts: { signal: AbortSignal; onError?: (err: unknown) => void }): void {
    if (opts.signal.aborted) return;
    const w: Watcher = { prefix, onEvent, onError: opts.onError, signal: opts.signal, stale: !this.#reachable };
    this.#watchers.add(w);
    opts.signal.addEventListener('abort', () => this.#watchers.delete(w), { once: true });
    if (this.#reachable) this.#deliver(w, { type: 'reset', entries: this.dump(prefix), index: this.#index });
    else this.#deliver(w, undefined, unreachable());
  }

  async register(key: string, value: string, ttlSeconds: number): Promise<Registration> {
    checkKey(key);
    checkTtl(ttlSeconds);
    await this.#enter();
    if (this.#bound.has(key) && this.#entries.has(key)) throw conflict(key);
    let markLost!: () => void;
    const lost = new Promise<void>((resolve) => { markLost = resolve; });
    const lease: Lease = { key, ttlMs: ttlSeconds * 1000, suspended: false, timer: undefined, ended: false, lost: markLost };
    this.#leases.add(lease);
    this.#bound.set(key, lease);
    this.#write(key, value);
    return {
      lost,
      // A graceful leave is not a loss: `lost` stays pending.
      release: async () => this.#end(lease, false),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.clear();
    for (const lease of this.#leases) this.#startExpiry(lease);
  }

  // --- test controls -------------------------------------------------------------------

  /** Stops the keep-alive of the registration bound to key: it expires TTL later on the clock. */
  suspendKeepAlive(key: string): void {
    const lease = this.#bound.get(key);
    if (!lease) throw new Error(`no registration at ${key}`);
    lease.suspended = true;
    this.#startExpiry(lease);
  }

  /** Simulates losing the server: calls reject, watchers report an error; recovery re-lists. */
  setReachable(reachable: boolean): void {
    if (reachable === this.#reachable) return;
    this.#reachable = reachable;
    for (const w of this.#watchers) {
      if (!reachable) {
        w.stale = true;
        this.#deliver(w, undefined, unreachable());
      } else if (w.stale) {
        w.stale = false;
        this.#deliver(w, { type: 'reset', entries: this.dump(w.prefix), index: this.#index });
      }
    }
    for (const lease of this.#leases) {
      if (!reachable) this.#startExpiry(lease);
      else if (!lease.suspended && !this.#closed) this.#stopExpiry(lease);
    }
  }

  // --- internals -----------------------------------------------------------------------

  async #enter(): Promise<void> {
    if (this.#closed) throw new OvnError('OVN_ERR_STORE_UNREACHABLE', `${this.url}: store closed`);
    if (!this.#reachable) throw unreachable();
    await Promise.resolve();
  }

  #write(key: string, value: string): number {
    const entry: KvEntry = { key, value, modifyIndex: ++this.#index };
    this.#entries.set(key, entry);
    this.#broadcast(key, { type: 'put', entry: { ...entry }, index: this.#index });
    return entry.modifyIndex;
  }

  #remove(key: string): void {
    this.#entries.delete(key);
    this.#broadcast(key, { type: 'delete', key, index: ++this.#index });
  }

  #broadcast(key: string, e: WatchEvent): void {
    for (const w of this.#watchers) if (!w.stale && key.startsWith(w.prefix)) this.#deliver(w, e);
  }

  /** Events go out in order, each in its own microtask, and never to an aborted watcher. */
  #deliver(w: Watcher, e: WatchEvent | undefined, err?: unknown): void {
    queueMicrotask(() => {
      if (w.signal.aborted || !this.#watchers.has(w)) return;
      try {
        if (e) w.onEvent(e);
        else w.onError?.(err);
      } catch (thrown) {
        w.onError?.(thrown);
      }
    });
  }

  #startExpiry(lease: Lease): void {
    if (lease.ended || lease.timer !== undefined) return;
    lease.timer = this.#clock.setTimeout(() => {
      lease.timer = undefined;
      this.#end(lease, true);
    }, lease.ttlMs);
  }

  #stopExpiry(lease: Lease): void {
    if (lease.timer === undefined) return;
    this.#clock.clearTimeout(lease.timer);
    lease.timer = undefined;
  }

  /** Ends a registration, deleting its key if the key is still bound to it. */
  #end(lease: Lease, lost: boolean): void {
    if (lease.ended) return;
    lease.ended = true;
    this.#stopExpiry(lease);
    this.#leases.delete(lease);
    if (this.#bound.get(lease.key) === lease) {
      this.#bound.delete(lease.key);
      if (this.#entries.has(lease.key)) this.#remove(lease.key);
    }
    if (lost) lease.lost();
  }
}

function byKey(a: KvEntry, b: KvEntry): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function unreachable(): OvnError {
  return new OvnError('OVN_ERR_STORE_UNREACHABLE', 'memory store is unreachable (simulated outage)', { retryable: true });
}
