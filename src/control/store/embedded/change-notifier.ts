/**
 * Wakes blocking queries (?index=) when a key in their scope changes. Each waiter watches one
 * key or one prefix; a commit notifies with the keys it touched.
 */
import type { Clock } from '../../../lib/clock.js';

export interface Scope {
  key: string;
  /** true: every key starting with `key`; false: exactly `key`. */
  prefix: boolean;
}

interface Waiter extends Scope {
  wake: () => void;
}

export function inScope(scope: Scope, key: string): boolean {
  return scope.prefix ? key.startsWith(scope.key) : key === scope.key;
}

export class ChangeNotifier {
  readonly #waiters = new Set<Waiter>();

  constructor(private readonly clock: Clock) {}

  /** Resolves on a change in `scope`, after `ms`, when `signal` aborts, or on closeAll(). */
  wait(scope: Scope, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { ...scope, wake: () => done() };
      const timer = this.clock.setTimeout(() => done(), ms);
      const done = (): void => {
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#waiters.delete(waiter);
        resolve();
      };
      if (signal.aborted) return done();
      signal.addEventListener('abort', done, { once: true });
      this.#waiters.add(waiter);
    });
  }

  notify(keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const w of [...this.#waiters]) if (keys.some((k) => inScope(w, k))) w.wake();
  }

  closeAll(): void {
    for (const w of [...this.#waiters]) w.wake();
  }

  get size(): number {
    return this.#waiters.size;
  }
}
