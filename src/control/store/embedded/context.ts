/** What the embedded server's route handlers share. */
import type { Clock } from '../../../lib/clock.js';
import type { ChangeNotifier } from './change-notifier.js';
import type { KvState, StoredEntry } from './kv-state.js';
import type { SessionTable } from './sessions.js';

export interface RouteContext {
  readonly state: KvState;
  readonly sessions: SessionTable;
  readonly notifier: ChangeNotifier;
  readonly clock: Clock;
  readonly minSessionTtlMs: number;
  /** "host:port" this server answers on, reported as the leader (set once listening). */
  address: string;
}

/** Consul's largest value (512 KiB). */
export const MAX_VALUE_BYTES = 512 * 1024;

/** Consul's JSON shape of one KV entry; Value is base64, or null when empty or omitted. */
export function entryJson(e: StoredEntry, withValue = true): Record<string, unknown> {
  return {
    LockIndex: e.lockIndex,
    Key: e.key,
    Flags: e.flags,
    Value: withValue && e.value.length > 0 ? e.value.toString('base64') : null,
    ...(e.session ? { Session: e.session } : {}),
    CreateIndex: e.createIndex,
    ModifyIndex: e.modifyIndex,
  };
}
