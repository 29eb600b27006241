/**
 * Consul watch sessions against a scripted lister: Consul's documented index rules (an index
 * that goes backwards, or is 0, means "re-list and reset") and diffing of full listings.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import type { KvEntry, KvList, WatchEvent } from '../../src/control/store/kv-store.js';
import { consulWatchSession, type BlockingLister } from '../../src/control/store/consul-watch.js';
import { runWatchLoop } from '../../src/control/store/watch-loop.js';
import { waitFor } from './store-contract.js';

const e = (key: string, value: string, modifyIndex: number): KvEntry => ({ key, value, modifyIndex });

/** Answers each call with the next scripted listing; the last one then blocks until aborted. */
class ScriptedLister implements BlockingLister {
  readonly url = 'consul://scripted:8500';
  readonly calls: (number | undefined)[] = [];
  constructor(private readonly script: (KvList | Error)[]) {}
  async listBlocking(_prefix: string, block?: { index: number; signal: AbortSignal }): Promise<KvList> {
    this.calls.push(block?.index);
    const next = this.script.shift();
    if (next === undefined) {
      await new Promise<void>((resolve) => block?.signal.addEventListener('abort', () => resolve(), { once: true }));
      throw new Error('aborted');
    }
    if (next instanceof Error) throw next;
    return next;
  }
}

function watch(lister: ScriptedLister): { events: WatchEvent[]; errors: unknown[]; stop: () => void } {
  const events: WatchEvent[] = [];
  const errors: unknown[] = [];
  const ac = new AbortController();
  runWatchLoop(systemClock, (api) => consulWatchSession(lister, 'p/', api), (ev) => events.push(ev), { signal: ac.signal, onError: (err) => errors.push(err) });
  return { events, errors, stop: () => ac.abort() };
}

const describeEvent = (ev: WatchEvent): string =>
  ev.type === 'reset' ? `reset@${ev.index} ${ev.entries.map((x) => `${x.key}=${x.value}`).join(',')}`
    : ev.type === 'put' ? `put@${ev.index} ${ev.entry.key}=${ev.entry.value}` : `delete@${ev.index} ${ev.key}`;

describe('consul watch session', () => {
  it('turns successive listings into puts and deletes, and blocks from the last index', async () => {
    const lister = new ScriptedLister([
      { index: 10, entries: [e('p/a', '1', 5), e('p/b', '2', 10)] },
      { index: 10, entries: [e('p/a', '1', 5), e('p/b', '2', 10)] }, // wait timed out: no change
      { index: 14, entries: [e('p/a', '1', 5), e('p/c', '3', 14), e('p/b', '2b', 12)] },
      { index: 15, entries: [e('p/c', '3', 14)] },
    ]);
    const w = watch(lister);
    await waitFor(() => w.events.length >= 5, 5_000, 'five events');
    w.stop();
    expect(w.events.map(describeEvent)).toEqual([
      'reset@10 p/a=1,p/b=2', 'put@12 p/b=2b', 'put@14 p/c=3', 'delete@15 p/a', 'delete@15 p/b',
    ]);
    expect(lister.calls).toEqual([undefined, 10, 10, 14, 15]);
    expect(w.errors).toEqual([]);
  });

  it('re-lists and resets when the index goes backwards', async () => {
    const lister = new ScriptedLister([
      { index: 20, entries: [e('p/a', '1', 20)] },
      { index: 7, entries: [e('p/a', '1', 3)] }, // e.g. a restored snapshot
      { index: 8, entries: [e('p/z', '9', 8)] },
    ]);
    const w = watch(lister);
    await waitFor(() => w.events.length >= 2, 5_000, 'two resets');
    w.stop();
    expect(w.events.map(describeEvent)).toEqual(['reset@20 p/a=1', 'reset@8 p/z=9']);
    expect(lister.calls.slice(0, 3)).toEqual([undefined, 20, undefined]);
  });

  it('treats an index of 0 as a protocol error: reported, backed off, then a fresh reset', async () => {
    const lister = new ScriptedLister([
      { index: 0, entries: [] },
      new Error('connection refused'),
      { index: 4, entries: [e('p/a', '1', 4)] },
      { index: 0, entries: [] }, // a blocking answer of 0: re-list
      { index: 6, entries: [e('p/a', '2', 6)] },
    ]);
    const w = watch(lister);
    await waitFor(() => w.events.length >= 2, 5_000, 'two resets');
    w.stop();
    expect(w.events.map(describeEvent)).toEqual(['reset@4 p/a=1', 'reset@6 p/a=2']);
    expect(w.errors.map(String)).toEqual([expect.stringMatching(/X-Consul-Index 0/), 'Error: connection refused']);
  });

  it('a throwing consumer is reported and gets a fresh reset', async () => {
    const lister = new ScriptedLister([
      { index: 2, entries: [] },
      { index: 3, entries: [e('p/a', 'boom', 3)] },
      { index: 3, entries: [e('p/a', 'boom', 3)] },
    ]);
    const events: string[] = [];
    const errors: unknown[] = [];
    const ac = new AbortController();
    runWatchLoop(systemClock, (api) => consulWatchSession(lister, 'p/', api), (ev) => {
      events.push(describeEvent(ev));
      if (ev.type === 'put') throw new Error('consumer bug');
    }, { signal: ac.signal, onError: (err) => errors.push(err) });
    await waitFor(() => events.length >= 3, 5_000, 'reset, put, reset');
    ac.abort();
    expect(events).toEqual(['reset@2 ', 'put@3 p/a=boom', 'reset@3 p/a=boom']);
    expect(String(errors[0])).toMatch(/consumer bug/);
  });
});
