/** The keep-alive loop behind register(), driven by a fake clock: when `lost` resolves and when not. */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/lib/clock.js';
import { KeptAliveRegistration, pauseKeepAliveForTest } from '../../src/control/store/keep-alive.js';

class FakeClock implements Clock {
  t = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown { const id = this.#next++; this.#timers.set(id, { at: this.t + ms, fn }); return id; }
  clearTimeout(h: unknown): void { this.#timers.delete(h as number); }
  /** Advances time, firing due timers in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

function settled(p: Promise<void>): () => boolean {
  let done = false;
  void p.then(() => { done = true; });
  return () => done;
}

describe('KeptAliveRegistration', () => {
  it('renews every TTL/3 and stays alive while renewals succeed', async () => {
    const clock = new FakeClock();
    let renewals = 0;
    const reg = new KeptAliveRegistration({ renew: async () => { renewals++; return 'alive'; }, destroy: async () => {} }, 3, clock);
    const lost = settled(reg.lost);
    await clock.advance(30_000);
    expect(renewals).toBe(30);
    expect(lost()).toBe(false);
  });

  it('is lost as soon as the server says the session is gone', async () => {
    const clock = new FakeClock();
    const reg = new KeptAliveRegistration({ renew: async () => 'gone', destroy: async () => {} }, 3, clock);
    const lost = settled(reg.lost);
    await clock.advance(1_000);
    expect(lost()).toBe(true);
  });

  it('survives transport errors shorter than a TTL, and is lost after a whole TTL of them', async () => {
    const clock = new FakeClock();
    let failing = true;
    let destroyed = 0;
    const errors: unknown[] = [];
    const reg = new KeptAliveRegistration({
      renew: async () => { if (failing) throw new Error('unreachable'); return 'alive'; },
      destroy: async () => { destroyed++; },
    }, 3, clock, (e) => errors.push(e));
    const lost = settled(reg.lost);
    await clock.advance(2_500);
    expect(lost()).toBe(false);
    failing = false;
    await clock.advance(2_000);
    expect(lost()).toBe(false);
    failing = true;
    await clock.advance(4_000);
    expect(lost()).toBe(true);
    expect(errors.length).toBeGreaterThan(2);
    expect(destroyed).toBe(1); // best effort, so a successor can take the key sooner
  });

  it('release destroys the session once and never reports lost', async () => {
    const clock = new FakeClock();
    let destroyed = 0;
    let renewals = 0;
    const reg = new KeptAliveRegistration({ renew: async () => { renewals++; return 'alive'; }, destroy: async () => { destroyed++; } }, 3, clock);
    const lost = settled(reg.lost);
    await reg.release();
    await reg.release();
    await clock.advance(10_000);
    expect(destroyed).toBe(1);
    expect(renewals).toBe(0);
    expect(lost()).toBe(false);
  });

  it('pausing skips renewals; the first one afterwards finds out the session is gone', async () => {
    const clock = new FakeClock();
    let serverAlive = true;
    let renewals = 0;
    const reg = new KeptAliveRegistration({ renew: async () => { renewals++; return serverAlive ? 'alive' : 'gone'; }, destroy: async () => {} }, 3, clock);
    const lost = settled(reg.lost);
    await clock.advance(1_000);
    expect(renewals).toBe(1);
    pauseKeepAliveForTest(reg, 5_000);
    serverAlive = false; // the server expires it meanwhile
    await clock.advance(4_900);
    expect(renewals).toBe(1);
    expect(lost()).toBe(false);
    await clock.advance(200);
    expect(lost()).toBe(true);
    expect(() => pauseKeepAliveForTest({ release: async () => {}, lost: new Promise(() => {}) }, 1)).toThrow(TypeError);
  });
});
