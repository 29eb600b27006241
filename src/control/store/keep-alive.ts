/**
 * The keep-alive loop behind register() for every backend: renew the session/lease every TTL/3;
 * `lost` resolves when the server says it is gone, or when no renewal succeeded for a whole TTL
 * (the server may already have expired it, so the holder must assume the worst).
 */
import type { Clock } from '../../lib/clock.js';
import type { Registration } from './kv-store.js';

export interface KeepAliveOps {
  /** One renewal: 'alive', or 'gone' when the server no longer knows the session/lease. Throws on transport errors. */
  renew(): Promise<'alive' | 'gone'>;
  /** Ends the session/lease on the server, which deletes the key at once. */
  destroy(): Promise<void>;
}

export class KeptAliveRegistration implements Registration {
  readonly lost: Promise<void>;
  #resolveLost!: () => void;
  #timer: unknown;
  #lastAliveAt: number;
  #pausedUntil = 0;
  #state: 'running' | 'lost' | 'stopped' = 'running';
  readonly #ttlMs: number;

  constructor(
    private readonly ops: KeepAliveOps,
    ttlSeconds: number,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.#ttlMs = ttlSeconds * 1000;
    this.#lastAliveAt = clock.now();
    this.lost = new Promise((resolve) => { this.#resolveLost = resolve; });
    this.#schedule(this.#ttlMs / 3);
  }

  async release(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasLost = this.#state === 'lost';
    this.#stop('stopped');
    try {
      await this.ops.destroy();
    } catch (err) {
      // Once lost, the server has (or soon will have) dropped it anyway.
      if (!wasLost) throw err;
    }
  }

  /** Stops renewing without touching the server (client shutdown); the key expires after its TTL. */
  abandon(): void {
    if (this.#state === 'running') this.#stop('stopped');
  }

  /** Test hook: skip renewals for `ms`; the first renewal afterwards discovers whether it survived. */
  pauseKeepAlive(ms: number): void {
    this.#pausedUntil = this.clock.now() + ms;
  }

  #schedule(ms: number): void {
    this.#timer = this.clock.setTimeout(() => void this.#tick(), Math.max(50, ms));
  }

  async #tick(): Promise<void> {
    if (this.#state !== 'running') return;
    const now = this.clock.now();
    if (now < this.#pausedUntil) {
      return this.#schedule(this.#pausedUntil - now);
    }
    let result: 'alive' | 'gone' | 'error';
    try {
      result = await this.ops.renew();
    } catch (err) {
      this.onError(err);
      result = 'error';
    }
    if (this.#state !== 'running') return;
    if (result === 'gone') return this.#markLost();
    if (result === 'alive') {
      this.#lastAliveAt = this.clock.now();
      return this.#schedule(this.#ttlMs / 3);
    }
    if (this.clock.now() - this.#lastAliveAt >= this.#ttlMs) {
      // Best effort: if the server is reachable again soon, free the key for our successor.
      this.ops.destroy().catch(() => {});
      return this.#markLost();
    }
    this.#schedule(Math.min(1_000, this.#ttlMs / 6));
  }

  #markLost(): void {
    this.#stop('lost');
    this.#resolveLost();
  }

  #stop(state: 'lost' | 'stopped'): void {
    this.#state = state;
    this.clock.clearTimeout(this.#timer);
  }
}

/** Test hook: stop renewing `reg` for `ms` (as a stalled agent would). Throws for foreign objects. */
export function pauseKeepAliveForTest(reg: Registration, ms: number): void {
  if (!(reg instanceof KeptAliveRegistration)) throw new TypeError('not a store registration');
  reg.pauseKeepAlive(ms);
}

/**
 * What every store client must undo at close(): its watches end, and its registrations stop
 * being kept alive without being released (so their keys expire after the TTL, as a crash would).
 */
export class ClientLifetime {
  readonly #registrations = new Set<KeptAliveRegistration>();
  /** Aborted by close(): ends every watch this client runs. */
  readonly #life = new AbortController();

  /** A signal for a watch: aborts when the caller's signal does, or when the client closes. */
  watchSignal(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.#life.signal]);
  }

  track(reg: KeptAliveRegistration): KeptAliveRegistration {
    this.#registrations.add(reg);
    void reg.lost.then(() => this.#registrations.delete(reg));
    return reg;
  }

  close(): void {
    this.#life.abort();
    for (const reg of this.#registrations) reg.abandon();
    this.#registrations.clear();
  }
}
