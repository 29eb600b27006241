/**
 * Feeds the reconciler from the store: registers this host (ephemeral, kept alive), watches the
 * whole key layout, and turns every change into a desired state. The store is never on the
 * forwarding path: when it is unreachable the last state stays applied (no flush), the agent
 * reports itself degraded and retries with capped, jittered backoff; the last applied state is
 * saved so that an agent restarted during an outage comes up forwarding.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { Logger } from '../lib/log.js';
import { isOvnError } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import type { KvStore, Registration, WatchEvent } from '../control/store/kv-store.js';
import { Backoff, sleep } from '../control/store/backoff.js';
import type { KeyLayout } from '../control/keys.js';
import { CorruptionReporter, encodeHost, type HostDoc } from '../control/documents.js';
import { ClusterView } from './cluster-view.js';
import type { DesiredState } from './desired-state.js';

const MAX_BACKOFF_MS = 30_000;

export interface StoreHealth {
  health: 'ok' | 'degraded';
  since: string;
  watchErrors: number;
  registerErrors: number;
  corruptEntries: number;
  registered: boolean;
}

export interface ClusterSourceOptions {
  store: KvStore;
  keys: KeyLayout;
  self: HostDoc;
  ttlSeconds: number;
  clock: Clock;
  log: Logger;
  stateFile: string;
  submit(state: DesiredState): Promise<void>;
}

export class ClusterSource {
  readonly #o: ClusterSourceOptions;
  readonly #abort = new AbortController();
  readonly view: ClusterView;
  #health: 'ok' | 'degraded' = 'degraded';
  #since = new Date();
  #watchErrors = 0;
  #registerErrors = 0;
  #registration: Registration | undefined;
  #sawError = false;
  #holdTimer: unknown;
  #loop: Promise<void> | undefined;

  constructor(o: ClusterSourceOptions) {
    this.#o = o;
    this.view = new ClusterView(o.keys, o.self.id, new CorruptionReporter((key, reason) => o.log.warn({ key, reason }, 'skipping a corrupted store entry')));
  }

  /** The state saved by the last run, if any (applied before the store answers). */
  static loadSaved(file: string, log: Logger): DesiredState | undefined {
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; state?: DesiredState };
      if (s.version !== 1 || !s.state || !Array.isArray(s.state.networks) || !Array.isArray(s.state.peers)) throw new Error('unknown format');
      return { networks: s.state.networks, peers: s.state.peers, pinned: Array.isArray(s.state.pinned) ? s.state.pinned : [] };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file, err: (e as Error).message }, 'ignoring unreadable saved state');
      return undefined;
    }
  }

  start(): void {
    const signal = this.#abort.signal;
    this.#o.store.watch(this.#o.keys.root, (e) => this.#onEvent(e), { signal, onError: (err) => this.#onWatchError(err) });
    this.#loop = this.#registerLoop(signal);
  }

  healthReport(): StoreHealth {
    return {
      health: this.#health, since: this.#since.toISOString(), watchErrors: this.#watchErrors, registerErrors: this.#registerErrors,
      corruptEntries: this.view.reporter.total, registered: this.#registration !== undefined,
    };
  }

  #setHealth(h: 'ok' | 'degraded', why?: unknown): void {
    if (h === this.#health) return;
    this.#health = h;
    this.#since = new Date();
    if (h === 'degraded') this.#o.log.warn({ err: why instanceof Error ? why.message : why }, 'store unreachable: forwarding with the last known state');
    else this.#o.log.info('store reachable again');
  }

  #onWatchError(err: unknown): void {
    this.#watchErrors++;
    this.#sawError = true;
    this.#setHealth('degraded', err);
  }

  #onEvent(e: WatchEvent): void {
    const now = this.#o.clock.now();
    const recovering = e.type === 'reset' && this.#sawError;
    this.view.apply(e, now, { recovering, holdMs: this.#o.ttlSeconds * 1000 });
    if (e.type === 'reset') this.#sawError = false;
    if (this.#registration || e.type === 'reset') this.#setHealth(this.#registration ? 'ok' : this.#health);
    this.#publish();
    const until = this.view.holdUntil(now);
    if (until && !this.#holdTimer) {
      this.#holdTimer = this.#o.clock.setTimeout(() => { this.#holdTimer = undefined; this.#publish(); }, until - now + 10);
    }
  }

  #publish(): void {
    const state = this.view.desired(this.#o.clock.now());
    this.#o.submit(state).then(() => this.#save(state)).catch((e) => this.#o.log.error({ err: e }, 'reconcile failed'));
  }

  #save(state: DesiredState): void {
    const tmp = `${this.#o.stateFile}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ version: 1, savedAt: new Date().toISOString(), state }));
      renameSync(tmp, this.#o.stateFile);
    } catch (e) {
      this.#o.log.warn({ err: (e as Error).message }, 'cannot save state');
    }
  }

  async #registerLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(250, MAX_BACKOFF_MS);
    const key = this.#o.keys.host(this.#o.self.id);
    let takeovers = 0;
    while (!signal.aborted) {
      try {
        this.#registration = await this.#o.store.register(key, encodeHost(this.#o.self), this.#o.ttlSeconds);
        if (signal.aborted) break;
        backoff.reset();
        takeovers = 0;
        this.#setHealth('ok');
        this.#o.log.info({ key }, 'registered in the store');
        await Promise.race([this.#registration.lost, new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
        if (signal.aborted) break;
        this.#registration = undefined;
        this.#o.log.warn('store registration lost; registering again');
      } catch (e) {
        this.#registration = undefined;
        // Two agents sharing one state directory would fight over the key: take over a few
        // times in a row at most, then back off like any other failure.
        if (isOvnError(e, 'OVN_ERR_STORE_CONFLICT') && takeovers++ < 3 && (await this.#takeOver(key))) continue;
        this.#registerErrors++;
        this.#setHealth('degraded', e);
        await sleep(this.#o.clock, backoff.next(), signal);
      }
    }
  }

  /**
   * The host key is named after this host's id, which lives in this host's state directory:
   * a live registration holding it can only be our own previous life (killed before it could
   * deregister). Waiting for its TTL would drop us from every peer meanwhile, so remove it.
   */
  async #takeOver(key: string): Promise<boolean> {
    try {
      const cur = await this.#o.store.get(key);
      if (!cur) return true;
      const ok = await this.#o.store.delete(key, cur.modifyIndex);
      if (ok) this.#o.log.info({ key }, 'removed the registration of a previous run of this host');
      return ok;
    } catch {
      return false;
    }
  }

  /** Graceful leave: stop watching and delete the registration at once. */
  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#holdTimer) this.#o.clock.clearTimeout(this.#holdTimer);
    await this.#loop;
    const reg = this.#registration;
    this.#registration = undefined;
    if (reg) await reg.release().catch((e) => this.#o.log.warn({ err: (e as Error).message }, 'could not deregister'));
  }
}
