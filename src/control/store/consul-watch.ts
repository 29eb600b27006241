/**
 * One watch session over Consul blocking queries: list, emit 'reset', then long-poll with
 * ?index=&wait= and diff each answer against what the consumer already has. Per Consul's
 * documented rules an index of 0 or one lower than before means our view is stale: the session
 * ends and the loop re-lists.
 */
import { OvnError } from '../../lib/errors.js';
import type { KvEntry, KvList } from './kv-store.js';
import type { WatchSessionApi } from './watch-loop.js';
import { diffListing } from './watch-diff.js';

export interface BlockingLister {
  readonly url: string;
  listBlocking(prefix: string, block?: { index: number; signal: AbortSignal }): Promise<KvList>;
}

export async function consulWatchSession(store: BlockingLister, prefix: string, api: WatchSessionApi): Promise<void> {
  const first = await store.listBlocking(prefix);
  if (first.index <= 0) {
    throw new OvnError('OVN_ERR_STORE_PROTOCOL', `${store.url} returned X-Consul-Index 0 for a listing`, { retryable: true });
  }
  const known = new Map<string, KvEntry>(first.entries.map((e) => [e.key, e]));
  api.emit({ type: 'reset', entries: first.entries, index: first.index });
  api.healthy();
  let index = first.index;
  while (!api.signal.aborted) {
    const next = await store.listBlocking(prefix, { index, signal: api.signal });
    if (api.signal.aborted) return;
    if (next.index === 0 || next.index < index) return;
    if (next.index === index) continue;
    for (const e of diffListing(known, next.entries, next.index)) api.emit(e);
    index = next.index;
  }
}
