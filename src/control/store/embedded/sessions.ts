/**
 * Sessions of the embedded store, after Consul's: an optional TTL that renew extends, a
 * behavior (release | delete) applied to held keys when the session ends (destroy or TTL
 * expiry), and a lock-delay during which those keys cannot be re-acquired. Consul may expire
 * a session up to 2x TTL late; we expire exactly at TTL. Sessions live in memory only.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../lib/clock.js';
import type { SessionBehavior } from './kv-state.js';

export interface Session {
  readonly id: string;
  readonly name: string;
  readonly node: string;
  readonly behavior: SessionBehavior;
  /** As the client sent it ("10s"); '' for no TTL. */
  readonly ttl: string;
  readonly ttlMs: number;
  readonly lockDelayMs: number;
  readonly createIndex: number;
}

export interface SessionSpec {
  name: string;
  node: string;
  behavior: SessionBehavior;
  ttl: string;
  ttlMs: number;
  lockDelayMs: number;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SessionTable {
  readonly #sessions = new Map<string, { session: Session; timer: unknown }>();

  constructor(
    private readonly clock: Clock,
    /** Applies the session's behavior to the keys it holds. */
    private readonly onEnd: (s: Session) => void,
  ) {}

  create(spec: SessionSpec, index: number): Session {
    const session: Session = { id: randomUUID(), createIndex: index, ...spec };
    this.#sessions.set(session.id, { session, timer: this.#arm(session) });
    return session;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id)?.session;
  }

  list(): Session[] {
    return [...this.#sessions.values()].map((s) => s.session);
  }

  /** Restarts the TTL; undefined when the session no longer exists. */
  renew(id: string): Session | undefined {
    const rec = this.#sessions.get(id);
    if (!rec) return undefined;
    this.clock.clearTimeout(rec.timer);
    rec.timer = this.#arm(rec.session);
    return rec.session;
  }

  /** Ends the session now (destroy); idempotent. */
  destroy(id: string): void {
    const rec = this.#sessions.get(id);
    if (!rec) return;
    this.clock.clearTimeout(rec.timer);
    this.#sessions.delete(id);
    this.onEnd(rec.session);
  }

  /** Forgets every session without touching keys (server shutdown; reload cleans up). */
  clear(): void {
    for (const rec of this.#sessions.values()) this.clock.clearTimeout(rec.timer);
    this.#sessions.clear();
  }

  #arm(s: Session): unknown {
    return s.ttlMs > 0 ? this.clock.setTimeout(() => this.destroy(s.id), s.ttlMs) : undefined;
  }
}
