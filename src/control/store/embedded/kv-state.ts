/**
 * The embedded store's KV table with Consul's semantics: one global index (like Consul's Raft
 * index) stamps every commit; entries carry CreateIndex/ModifyIndex/LockIndex/Flags/Session;
 * deleted keys leave tombstones so a prefix's index never goes backwards when its last key
 * goes. Writes happen in a KvWrite (one index per commit, all-or-nothing, as /v1/txn needs).
 */
import type { Clock } from '../../../lib/clock.js';
import { inScope, type Scope } from './change-notifier.js';

export type SessionBehavior = 'release' | 'delete';

export interface StoredEntry {
  readonly key: string;
  readonly value: Buffer;
  readonly flags: number;
  readonly createIndex: number;
  readonly modifyIndex: number;
  readonly lockIndex: number;
  readonly session?: string;
  /** What the holding session's end does to this key; persisted so a restart can apply it. */
  readonly lockBehavior?: SessionBehavior;
}

export interface CommitRecord {
  index: number;
  puts: StoredEntry[];
  deletes: string[];
}

export interface KvStateData {
  index: number;
  floor: number;
  entries: StoredEntry[];
  tombstones: [string, number][];
}

export interface KvStateHooks {
  /** Session lookup for acquire: undefined when the session does not exist. */
  sessionBehavior(id: string): SessionBehavior | undefined;
  /** Makes a commit durable before it becomes visible; if it throws, the commit is undone. */
  persist(rec: CommitRecord): void;
  /** Called after every commit that changed something (blocking-query wake-ups, compaction). */
  onCommit(rec: CommitRecord): void;
}

export class KvState {
  index: number;
  /** Highest index of a reaped tombstone: every scope's index is at least this. */
  floor: number;
  readonly entries = new Map<string, StoredEntry>();
  readonly tombstones = new Map<string, number>();
  /** key -> clock time until which acquire is refused (lock-delay after a session ended). */
  readonly lockDelays = new Map<string, number>();

  constructor(
    readonly clock: Clock,
    readonly hooks: KvStateHooks,
    data: KvStateData,
    private readonly maxTombstones = 10_000,
  ) {
    this.index = data.index;
    this.floor = data.floor;
    for (const e of data.entries) this.entries.set(e.key, e);
    for (const [k, i] of data.tombstones) this.tombstones.set(k, i);
  }

  begin(): KvWrite {
    return new KvWrite(this, this.index + 1);
  }

  get(key: string): StoredEntry | undefined {
    return this.entries.get(key);
  }

  list(prefix: string): StoredEntry[] {
    const out: StoredEntry[] = [];
    for (const e of this.entries.values()) if (e.key.startsWith(prefix)) out.push(e);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * The X-Consul-Index of a read: the latest write (or delete) in scope, never below the reaped
   * tombstone floor; the table index when nothing in scope was ever seen; at least 1.
   */
  scopeIndex(scope: Scope): number {
    let found = 0;
    if (scope.prefix) {
      for (const e of this.entries.values()) if (e.modifyIndex > found && inScope(scope, e.key)) found = e.modifyIndex;
      for (const [k, i] of this.tombstones) if (i > found && inScope(scope, k)) found = i;
    } else {
      found = Math.max(this.entries.get(scope.key)?.modifyIndex ?? 0, this.tombstones.get(scope.key) ?? 0);
    }
    return found > 0 ? Math.max(found, this.floor) : Math.max(1, this.index);
  }

  lockDelayed(key: string): boolean {
    const until = this.lockDelays.get(key);
    if (until === undefined) return false;
    if (this.clock.now() < until) return true;
    this.lockDelays.delete(key);
    return false;
  }

  /** Applies a session's end to the keys it holds: delete or release them, then lock-delay. */
  endSession(id: string, behavior: SessionBehavior, lockDelayMs: number): void {
    const w = this.begin();
    for (const e of [...this.entries.values()]) {
      if (e.session !== id) continue;
      if (behavior === 'delete') w.delete(e.key);
      else w.put({ ...e, session: undefined, lockBehavior: undefined });
      if (lockDelayMs > 0) this.lockDelays.set(e.key, this.clock.now() + lockDelayMs);
    }
    w.commit();
  }

  snapshot(): KvStateData {
    return { index: this.index, floor: this.floor, entries: [...this.entries.values()], tombstones: [...this.tombstones] };
  }

  /** Called by KvWrite.commit(). */
  applyCommit(rec: CommitRecord): void {
    this.index = rec.index;
    while (this.tombstones.size > this.maxTombstones) {
      const [k, i] = this.tombstones.entries().next().value as [string, number];
      this.tombstones.delete(k);
      if (i > this.floor) this.floor = i;
    }
    this.hooks.onCommit(rec);
  }
}

/** Result of a conditional write: the entry written, or why nothing was. */
export type WriteResult = { ok: true; entry: StoredEntry } | { ok: false; why: string };

export class KvWrite {
  /** Prior state of every key this write touched, for rollback. */
  readonly #undo = new Map<string, { entry?: StoredEntry; tomb?: number }>();
  #done = false;

  constructor(private readonly state: KvState, readonly index: number) {}

  set(key: string, value: Buffer, flags: number): StoredEntry {
    const old = this.state.entries.get(key);
    return this.put({
      key, value, flags,
      createIndex: old?.createIndex ?? this.index,
      modifyIndex: this.index,
      lockIndex: old?.lockIndex ?? 0,
      session: old?.session,
      lockBehavior: old?.lockBehavior,
    });
  }

  /** Consul CAS: index 0 writes only if the key is absent, otherwise only if ModifyIndex matches. */
  casCheck(key: string, cas: number): string | undefined {
    const old = this.state.entries.get(key);
    if (cas === 0) return old ? `key "${key}" exists` : undefined;
    if (!old) return `key "${key}" does not exist`;
    return old.modifyIndex === cas ? undefined : `current modify index ${old.modifyIndex} != ${cas}`;
  }

  lock(key: string, value: Buffer, flags: number, session: string): WriteResult {
    const behavior = this.state.hooks.sessionBehavior(session);
    if (!behavior) return { ok: false, why: `invalid session "${session}"` };
    const old = this.state.entries.get(key);
    if (old?.session === session) return { ok: true, entry: this.set(key, value, flags) };
    if (old?.session) return { ok: false, why: `key "${key}" is locked by another session` };
    if (this.state.lockDelayed(key)) return { ok: false, why: `key "${key}" is in its lock-delay period` };
    const entry = this.put({
      key, value, flags, session, lockBehavior: behavior,
      createIndex: old?.createIndex ?? this.index, modifyIndex: this.index, lockIndex: (old?.lockIndex ?? 0) + 1,
    });
    return { ok: true, entry };
  }

  unlock(key: string, value: Buffer, flags: number, session: string): WriteResult {
    const old = this.state.entries.get(key);
    if (!old || old.session !== session) return { ok: false, why: `key "${key}" is not locked by session "${session}"` };
    const entry = this.put({ ...old, value, flags, modifyIndex: this.index, session: undefined, lockBehavior: undefined });
    return { ok: true, entry };
  }

  delete(key: string): boolean {
    if (!this.state.entries.has(key)) return false;
    this.#remember(key);
    this.state.entries.delete(key);
    this.state.tombstones.delete(key);
    this.state.tombstones.set(key, this.index);
    return true;
  }

  deleteTree(prefix: string): void {
    for (const key of [...this.state.entries.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }

  put(entry: StoredEntry): StoredEntry {
    const e = { ...entry, modifyIndex: this.index };
    this.#remember(e.key);
    this.state.entries.set(e.key, e);
    this.state.tombstones.delete(e.key);
    return e;
  }

  /** Makes the changes visible at `index`; a write that changed nothing leaves the index alone. */
  commit(): CommitRecord | undefined {
    this.#finish();
    if (this.#undo.size === 0) return undefined;
    const rec: CommitRecord = { index: this.index, puts: [], deletes: [] };
    for (const key of this.#undo.keys()) {
      const e = this.state.entries.get(key);
      if (e) rec.puts.push(e); else rec.deletes.push(key);
    }
    try {
      this.state.hooks.persist(rec);
    } catch (err) {
      this.#revert();
      throw err;
    }
    this.state.applyCommit(rec);
    return rec;
  }

  rollback(): void {
    this.#finish();
    this.#revert();
  }

  #revert(): void {
    for (const [key, prior] of this.#undo) {
      if (prior.entry) this.state.entries.set(key, prior.entry); else this.state.entries.delete(key);
      if (prior.tomb !== undefined) this.state.tombstones.set(key, prior.tomb); else this.state.tombstones.delete(key);
    }
  }

  #remember(key: string): void {
    if (this.#done) throw new Error('KvWrite used after commit/rollback');
    if (!this.#undo.has(key)) this.#undo.set(key, { entry: this.state.entries.get(key), tomb: this.state.tombstones.get(key) });
  }

  #finish(): void {
    if (this.#done) throw new Error('KvWrite committed twice');
    this.#done = true;
  }
}
