/**
 * Capped exponential backoff with jitter for store retries (watch re-lists, keep-alive retries),
 * and an abortable sleep on the injected clock.
 */
import type { Clock } from '../../lib/clock.js';

export class Backoff {
  #attempt = 0;
  constructor(private readonly initialMs = 100, private readonly maxMs = 5_000) {}

  /** The next delay: initial * 2^n, capped, with up to 50% random reduction so clients spread out. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    return Math.round(base * (0.5 + Math.random() * 0.5));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
