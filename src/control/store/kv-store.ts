/**
 * The one store interface every backend (Consul, etcd, the embedded Consul-compatible store)
 * implements, and one contract suite (test/contract) checks. Values are opaque strings here;
 * control/ layers versioned, validated JSON on top.
 *
 * Index: a backend-wide, monotonically increasing number (Consul's X-Consul-Index /
 * ModifyIndex, etcd's revision). An index of 0 from the backend, or one lower than the last
 * seen, means "your view is stale: list again" (Consul's documented rule).
 */

export interface KvEntry {
  key: string;
  value: string;
  /** Index of the last write of this key; the token for compare-and-set. */
  modifyIndex: number;
}

export interface KvList {
  entries: KvEntry[];
  /** Store index at which this listing was taken; pass it to watch(). */
  index: number;
}

export type WatchEvent =
  /** The full current content of the prefix (first event, and after any gap/compaction). */
  | { type: 'reset'; entries: KvEntry[]; index: number }
  | { type: 'put'; entry: KvEntry; index: number }
  | { type: 'delete'; key: string; index: number };

export interface Registration {
  /** Stops the keep-alive and deletes the key at once (graceful leave). */
  release(): Promise<void>;
  /**
   * Resolves when the registration is lost (TTL expired, session invalidated, or no renewal got
   * through for a whole TTL); re-register then. Not resolved by release() or the store's close().
   */
  readonly lost: Promise<void>;
}

export interface KvStore {
  /** Human-readable backend name and address, e.g. "consul://127.0.0.1:8500". */
  readonly url: string;
  get(key: string): Promise<KvEntry | undefined>;
  list(prefix: string): Promise<KvList>;
  put(key: string, value: string): Promise<number>;
  /**
   * Writes only if the key's modifyIndex still equals `expectIndex` (0: only if absent).
   * Returns the new modifyIndex, or undefined when the condition failed.
   */
  cas(key: string, value: string, expectIndex: number): Promise<number | undefined>;
  /** Deletes; with expectIndex, only if unchanged since. Returns whether it deleted. */
  delete(key: string, expectIndex?: number): Promise<boolean>;
  /**
   * Streams changes under `prefix` until `signal` aborts. The first event is a 'reset' with the
   * full content; after any error or index regression the watcher re-lists and emits 'reset'
   * again. Errors are reported through onError and retried with capped backoff, never thrown.
   */
  watch(prefix: string, onEvent: (e: WatchEvent) => void, opts: { signal: AbortSignal; onError?: (err: unknown) => void }): void;
  /**
   * Puts `key` bound to a TTL lease/session that is kept alive (renewed every TTL/3) until
   * released or lost. Rejects with retryable OVN_ERR_STORE_CONFLICT while another live
   * registration holds the key (e.g. our previous life's, until its TTL runs out).
   */
  register(key: string, value: string, ttlSeconds: number): Promise<Registration>;
  /**
   * Ends every watch of this client and stops keep-alives without releasing: registrations
   * then expire after their TTL, as if the process had died.
   */
  close(): Promise<void>;
}
