/**
 * Turns two successive full listings into put/delete events. Consul's blocking queries return
 * the whole prefix each time, so changes are found by comparing ModifyIndex per key; several
 * writes between two polls coalesce into the latest state, which is all a watcher needs.
 */
import type { KvEntry, WatchEvent } from './kv-store.js';

/**
 * Events that move a consumer from `known` to `next` (ordered: puts by modifyIndex, then deletes
 * stamped with `index`, the listing's index). Updates `known` in place.
 */
export function diffListing(known: Map<string, KvEntry>, next: KvEntry[], index: number): WatchEvent[] {
  const seen = new Set<string>();
  const puts: KvEntry[] = [];
  for (const e of next) {
    seen.add(e.key);
    const old = known.get(e.key);
    if (!old || old.modifyIndex !== e.modifyIndex || old.value !== e.value) puts.push(e);
  }
  const events: WatchEvent[] = [];
  puts.sort((a, b) => a.modifyIndex - b.modifyIndex);
  for (const e of puts) {
    known.set(e.key, e);
    events.push({ type: 'put', entry: e, index: e.modifyIndex });
  }
  for (const key of [...known.keys()]) {
    if (seen.has(key)) continue;
    known.delete(key);
    events.push({ type: 'delete', key, index });
  }
  return events;
}
