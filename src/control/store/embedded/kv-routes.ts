/**
 * /v1/kv/<key>: GET (single, ?recurse, ?keys[&separator], ?raw; blocking with ?index&wait),
 * PUT (?flags, ?cas, ?acquire, ?release) and DELETE (?recurse, ?cas), after Consul's KV API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Scope } from './change-notifier.js';
import { MAX_VALUE_BYTES, entryJson, type RouteContext } from './context.js';
import { HttpError, queryFlag, queryUint, queryWait, readBody, sendJson, sendRaw, sendText, type Target } from './http-io.js';

export async function handleKv(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, key: string, t: Target, signal: AbortSignal): Promise<void> {
  switch (req.method) {
    case 'GET': return getKv(ctx, res, key, t.query, signal);
    case 'PUT': return putKv(ctx, req, res, key, t.query);
    case 'DELETE': return deleteKv(ctx, res, key, t.query);
    default: throw new HttpError(405, `Method ${req.method} not allowed on /v1/kv`, { Allow: 'GET, PUT, DELETE' });
  }
}

/** Blocks while the scope's index is not past `minIndex`, up to `waitMs` plus Consul's jitter. */
async function block(ctx: RouteContext, scope: Scope, minIndex: number | undefined, waitMs: number, signal: AbortSignal): Promise<void> {
  if (!minIndex) return;
  const deadline = ctx.clock.now() + waitMs + Math.random() * (waitMs / 16);
  while (!signal.aborted && ctx.state.scopeIndex(scope) <= minIndex) {
    const left = deadline - ctx.clock.now();
    if (left <= 0) return;
    await ctx.notifier.wait(scope, left, signal);
  }
}

async function getKv(ctx: RouteContext, res: ServerResponse, key: string, query: URLSearchParams, signal: AbortSignal): Promise<void> {
  const keysOnly = queryFlag(query, 'keys');
  const scope: Scope = { key, prefix: keysOnly || queryFlag(query, 'recurse') };
  if (!scope.prefix && key === '') throw new HttpError(400, 'Missing key name');
  const minIndex = queryUint(query, 'index');
  const waitMs = queryWait(query);
  await block(ctx, scope, minIndex, waitMs, signal);
  if (signal.aborted) return;
  const index = ctx.state.scopeIndex(scope);
  if (keysOnly) {
    const keys = listKeys(ctx.state.list(key).map((e) => e.key), key, query.get('separator') ?? '');
    if (keys.length === 0) return sendText(res, 404, '', {}, index);
    return sendJson(res, 200, keys, index);
  }
  const entries = scope.prefix ? ctx.state.list(key) : [ctx.state.get(key)].filter((e) => e !== undefined);
  if (entries.length === 0) return sendText(res, 404, '', {}, index);
  if (queryFlag(query, 'raw') && !scope.prefix) return sendRaw(res, 200, entries[0].value, index);
  sendJson(res, 200, entries.map((e) => entryJson(e)), index);
}

/** ?keys with a separator lists each "directory" under the prefix once, up to and including the separator. */
function listKeys(keys: string[], prefix: string, separator: string): string[] {
  if (separator === '') return keys;
  const out = new Set<string>();
  for (const k of keys) {
    const at = k.indexOf(separator, prefix.length);
    out.add(at < 0 ? k : k.slice(0, at + separator.length));
  }
  return [...out];
}

async function putKv(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, key: string, query: URLSearchParams): Promise<void> {
  if (key === '') throw new HttpError(400, 'Missing key name');
  const flags = queryUint(query, 'flags') ?? 0;
  if (!Number.isSafeInteger(flags)) throw new HttpError(400, 'Flags above 2^53-1 are not supported by the embedded store');
  const cas = queryUint(query, 'cas');
  const acquire = query.get('acquire');
  const release = query.get('release');
  if (acquire === '' || release === '') throw new HttpError(400, 'Missing session ID');
  const value = await readBody(req, MAX_VALUE_BYTES);
  const w = ctx.state.begin();
  if (cas !== undefined && w.casCheck(key, cas) !== undefined) {
    w.rollback();
    return sendJson(res, 200, false);
  }
  const session = acquire ?? release;
  if (session !== null) {
    if (!ctx.sessions.get(session)) {
      w.rollback();
      throw new HttpError(400, `invalid session "${session.slice(0, 64)}"`);
    }
    const r = acquire !== null ? w.lock(key, value, flags, session) : w.unlock(key, value, flags, session);
    if (!r.ok) {
      w.rollback();
      return sendJson(res, 200, false);
    }
  } else {
    w.set(key, value, flags);
  }
  w.commit();
  sendJson(res, 200, true);
}

function deleteKv(ctx: RouteContext, res: ServerResponse, key: string, query: URLSearchParams): void {
  const recurse = queryFlag(query, 'recurse');
  const cas = queryUint(query, 'cas');
  if (!recurse && key === '') throw new HttpError(400, 'Missing key name');
  if (recurse && cas !== undefined) throw new HttpError(400, 'Conflicting flags: cas and recurse');
  const w = ctx.state.begin();
  if (recurse) {
    w.deleteTree(key);
  } else {
    const e = ctx.state.get(key);
    // Consul's delete-cas: a missing key counts as deleted; a changed one refuses.
    if (cas !== undefined && e && e.modifyIndex !== cas) {
      w.rollback();
      return sendJson(res, 200, false);
    }
    w.delete(key);
  }
  w.commit();
  sendJson(res, 200, true);
}
