/**
 * A lease-style lock on one store key, built only from create-only CAS, so it works on every
 * KvStore backend without sessions or leases.
 *
 * Design notes:
 * - Taking: cas(key, {owner, expiresAt}, 0). The value carries a wall-clock expiry (epoch ms)
 *   because the holder may be on another host; monotonic clocks are not comparable across hosts.
 * - Breaking: a holder that died leaves its key behind. Once its expiresAt is past (or the value
 *   is not a lock at all), a waiter replaces it with cas on the stale entry's modifyIndex, so
 *   exactly one waiter wins the takeover.
 * - The TTL must dwarf the critical section (milliseconds to seconds against a TTL of 30 s) and
 *   the clock skew between hosts. A holder that overruns can check stillHeld() right before its
 *   decisive write; the residual race after that check is narrow, and writes that must be unique
 *   are made create-only CAS by their callers anyway.
 * - Releasing deletes with expectIndex, so a holder whose lock was broken never deletes the
 *   new holder's lock.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { OvnError } from '../lib/errors.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { KvStore } from './store/kv-store.js';

export interface LockOptions {
  /** Who holds it, for the operator; default "<hostname>:<pid>:<random>". */
  owner?: string;
  /** Lifetime before other processes may break the lock. Default 30 s. */
  ttlMs?: number;
  /** Give up waiting after this long. Default 10 s. */
  deadlineMs?: number;
  /** Sleeps and the deadline (monotonic). */
  clock?: Clock;
  /** Expiry stamps in the lock value (epoch ms, shared between hosts). Default Date.now. */
  wallNow?: () => number;
  random?: () => number;
  /** Called when a stale lock was broken, with what it held. */
  onBreak?: (stale: { owner: string; expiresAt: number } | { corrupt: string }) => void;
}

export interface HeldLock {
  readonly key: string;
  readonly owner: string;
  readonly modifyIndex: number;
  /** True while the key still holds this acquisition (nobody broke it). */
  stillHeld(): Promise<boolean>;
  /** Deletes the key if it is still ours; never throws for a lost lock. */
  release(): Promise<void>;
}

interface LockDoc {
  version: 1;
  owner: string;
  expiresAt: number;
}

export const LOCK_DEFAULTS = { ttlMs: 30_000, deadlineMs: 10_000, firstBackoffMs: 5, maxBackoffMs: 200 } as const;

export function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export function encodeLock(owner: string, expiresAt: number): string {
  const doc: LockDoc = { version: 1, owner, expiresAt };
  return JSON.stringify(doc);
}

/** Never throws; a value that is not a v1 lock yields the reason. */
export function decodeLock(value: string): LockDoc | string {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (o.version !== 1 || typeof o.owner !== 'string' || typeof o.expiresAt !== 'number' || !Number.isFinite(o.expiresAt)) {
    return 'not a version 1 lock document';
  }
  return { version: 1, owner: o.owner, expiresAt: o.expiresAt };
}

/** Jittered exponential backoff: half fixed, half random, so waiters spread out. */
export function backoffMs(attempt: number, random: () => number): number {
  const base = Math.min(LOCK_DEFAULTS.maxBackoffMs, LOCK_DEFAULTS.firstBackoffMs * 2 ** Math.min(attempt, 16));
  return base / 2 + (base / 2) * random();
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

function held(store: KvStore, key: string, owner: string, modifyIndex: number): HeldLock {
  return {
    key, owner, modifyIndex,
    stillHeld: async () => (await store.get(key))?.modifyIndex === modifyIndex,
    release: async () => {
      await store.delete(key, modifyIndex);
    },
  };
}

/**
 * Takes the lock at `key`, waiting with jittered backoff and breaking an expired holder.
 * `purpose` names the lock in the error, e.g. "network-creation lock".
 * Throws OVN_ERR_STORE_CONFLICT (retryable) when the deadline passes.
 */
export async function acquireLock(store: KvStore, key: string, purpose: string, opts: LockOptions = {}): Promise<HeldLock> {
  const clock = opts.clock ?? systemClock;
  const wallNow = opts.wallNow ?? Date.now;
  const random = opts.random ?? Math.random;
  const owner = opts.owner ?? defaultOwner();
  const ttlMs = opts.ttlMs ?? LOCK_DEFAULTS.ttlMs;
  const deadlineMs = opts.deadlineMs ?? LOCK_DEFAULTS.deadlineMs;
  const start = clock.now();
  let holder: LockDoc | undefined;
  for (let attempt = 0; ; attempt++) {
    const value = encodeLock(owner, wallNow() + ttlMs);
    const idx = await store.cas(key, value, 0);
    if (idx !== undefined) return held(store, key, owner, idx);
    const cur = await store.get(key);
    if (cur) {
      const doc = decodeLock(cur.value);
      if (typeof doc === 'string' || doc.expiresAt < wallNow()) {
        const taken = await store.cas(key, value, cur.modifyIndex);
        if (taken !== undefined) {
          opts.onBreak?.(typeof doc === 'string' ? { corrupt: doc } : { owner: doc.owner, expiresAt: doc.expiresAt });
          return held(store, key, owner, taken);
        }
      } else {
        holder = doc;
      }
    }
    if (clock.now() - start >= deadlineMs) throw timeout(key, purpose, deadlineMs, holder);
    await sleep(clock, backoffMs(attempt, random));
  }
}

function timeout(key: string, purpose: string, deadlineMs: number, holder: LockDoc | undefined): OvnError {
  const until = new Date(holder?.expiresAt ?? NaN);
  const when = Number.isNaN(until.getTime()) ? String(holder?.expiresAt) : until.toISOString();
  const who = holder ? `held by ${holder.owner} until ${when}` : 'contended';
  return new OvnError('OVN_ERR_STORE_CONFLICT',
    `could not take the ${purpose} (${key}) within ${deadlineMs / 1000}s: ${who}; retry, or wait for it to expire`,
    { retryable: true });
}

/** Runs fn under the lock and always releases it. */
export async function withLock<T>(store: KvStore, key: string, purpose: string, opts: LockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(store, key, purpose, opts);
  try {
    return await fn(lock);
  } finally {
    await lock.release().catch(() => { /* it expires on its own; the result of fn matters more */ });
  }
}
