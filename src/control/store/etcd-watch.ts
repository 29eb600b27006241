/**
 * One etcd watch session: list (revision R), emit 'reset', then watch from R+1 so no change
 * between the two is missed. Any watcher error (including "revision compacted") or a
 * disconnection ends the session; the loop re-lists and emits a fresh 'reset'. The client
 * could resume silently after reconnecting, but a re-list also covers a restored or replaced
 * cluster whose revisions no longer match ours.
 */
import type { Watcher } from 'etcd3';
import type { WatchEvent } from './kv-store.js';
import type { WatchSessionApi } from './watch-loop.js';
import { etcdEntry, toEtcdError, type EtcdStore } from './etcd-store.js';

/** etcd 3.4 cancels a watch on compacted history with an empty reason; say what it likely means. */
function explainCancel(err: unknown): unknown {
  if (err instanceof Error && /^Watcher canceled: ?$/.test(err.message)) {
    return new Error('watch canceled by etcd (its start revision was compacted, or access was revoked)', { cause: err });
  }
  return err;
}

export async function etcdWatchSession(store: EtcdStore, prefix: string, api: WatchSessionApi): Promise<void> {
  const first = await store.list(prefix);
  let watcher: Watcher | undefined;
  try {
    watcher = await store.client.watch().prefix(prefix).startRevision(String(first.index + 1)).create();
  } catch (err) {
    throw toEtcdError(err, 'watch', store.url);
  }
  const w = watcher;
  let stop = (): void => {};
  try {
    api.emit({ type: 'reset', entries: first.entries, index: first.index });
    api.healthy();
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        if (err === undefined) resolve(); else reject(toEtcdError(explainCancel(err), 'watch', store.url));
      };
      const deliver = (make: () => WatchEvent): void => {
        if (done) return;
        try { api.emit(make()); } catch (e) { finish(e); }
      };
      w.on('put', (kv) => deliver(() => ({ type: 'put', entry: etcdEntry(kv), index: Number(kv.mod_revision) })));
      w.on('delete', (kv) => deliver(() => ({ type: 'delete', key: kv.key.toString('utf8'), index: Number(kv.mod_revision) })));
      w.on('error', finish);
      w.on('disconnected', finish);
      stop = () => finish();
      if (api.signal.aborted) finish();
      api.signal.addEventListener('abort', stop, { once: true });
    });
  } finally {
    api.signal.removeEventListener('abort', stop);
    w.removeAllListeners();
    w.on('error', () => {});
    w.cancel().catch(() => {});
  }
}
