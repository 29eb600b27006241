/**
 * The outer loop every backend's watch() runs: a "session" lists the prefix, emits 'reset' and
 * follows changes until it fails or sees the index go backwards; then we back off (after
 * failures) and start over with a fresh listing. Nothing escapes: errors go to onError.
 */
import type { Clock } from '../../lib/clock.js';
import type { WatchEvent } from './kv-store.js';
import { Backoff, sleep } from './backoff.js';

export interface WatchSessionApi {
  /** Delivers one event; throws only if the consumer threw (the session then restarts). */
  emit(e: WatchEvent): void;
  /** Marks the session healthy (its reset was delivered), so the next failure starts backoff afresh. */
  healthy(): void;
  readonly signal: AbortSignal;
}

/** A session returns to ask for an immediate re-list (index regression) and throws on failure. */
export type WatchSession = (api: WatchSessionApi) => Promise<void>;

export function runWatchLoop(
  clock: Clock,
  session: WatchSession,
  onEvent: (e: WatchEvent) => void,
  opts: { signal: AbortSignal; onError?: (err: unknown) => void },
): void {
  const { signal } = opts;
  const report = (err: unknown): void => {
    try { opts.onError?.(err); } catch { /* a throwing error handler must not stop the watch */ }
  };
  const backoff = new Backoff(100, 5_000);
  const api: WatchSessionApi = {
    emit: (e) => { if (!signal.aborted) onEvent(e); },
    healthy: () => backoff.reset(),
    signal,
  };
  void (async () => {
    while (!signal.aborted) {
      try {
        await session(api);
        // An index regression: re-list at once, but never spin if the server keeps regressing.
        await sleep(clock, 50, signal);
      } catch (err) {
        if (signal.aborted) break;
        report(err);
        await sleep(clock, backoff.next(), signal);
      }
    }
  })();
}
