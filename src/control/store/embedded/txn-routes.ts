/**
 * PUT /v1/txn, KV operations only: all operations apply at one index or none do (409 with
 * Errors). Reads inside a transaction see its earlier writes, as in Consul.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_VALUE_BYTES, entryJson, type RouteContext } from './context.js';
import { HttpError, parseJsonBody, readBody, requireMethod, sendJson } from './http-io.js';
import type { KvWrite } from './kv-state.js';

const VERBS = new Set(['set', 'cas', 'lock', 'unlock', 'get', 'get-or-empty', 'get-tree', 'check-index', 'check-session', 'check-not-exists', 'delete', 'delete-tree', 'delete-cas']);
const MAX_OPS = 128;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface KvOp {
  verb: string;
  key: string;
  value: Buffer;
  flags: number;
  index: number;
  session: string;
}

type Outcome = { results: unknown[] } | { error: string };

export async function handleTxn(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireMethod(req, 'PUT');
  const ops = parseOps(parseJsonBody(await readBody(req, 4 * MAX_VALUE_BYTES + 64 * 1024)));
  const w = ctx.state.begin();
  const results: unknown[] = [];
  for (let i = 0; i < ops.length; i++) {
    const out = applyOp(ctx, w, ops[i]);
    if ('error' in out) {
      w.rollback();
      return sendJson(res, 409, { Results: null, Errors: [{ OpIndex: i, What: out.error }] });
    }
    results.push(...out.results);
  }
  w.commit();
  sendJson(res, 200, { Results: results, Errors: null });
}

function parseOps(body: unknown): KvOp[] {
  if (!Array.isArray(body)) throw new HttpError(400, 'Transaction must be a JSON array of operations');
  if (body.length === 0) throw new HttpError(400, 'Transaction contains no operations');
  if (body.length > MAX_OPS) throw new HttpError(413, `Transaction contains too many operations (${body.length} > ${MAX_OPS})`);
  return body.map((op, i) => parseOp(op, i));
}

function parseOp(op: unknown, i: number): KvOp {
  const bad = (why: string): HttpError => new HttpError(400, `Operation ${i}: ${why}`);
  if (typeof op !== 'object' || op === null || Array.isArray(op)) throw bad('not an object');
  const kv: unknown = (op as Record<string, unknown>).KV;
  if (typeof kv !== 'object' || kv === null) throw bad('only KV operations are supported by the embedded store');
  const o = kv as Record<string, unknown>;
  if (typeof o.Verb !== 'string' || !VERBS.has(o.Verb)) throw bad(`unknown KV verb ${JSON.stringify(String(o.Verb).slice(0, 32))}`);
  if (typeof o.Key !== 'string') throw bad('Key must be a string');
  if (o.Key === '' && !o.Verb.endsWith('-tree')) throw bad('Missing key name');
  const num = (name: string, v: unknown): number => {
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${name} must be a non-negative integer`);
    return v;
  };
  if (o.Value !== undefined && o.Value !== null && (typeof o.Value !== 'string' || !B64.test(o.Value))) throw bad('Value must be base64');
  const value = Buffer.from(typeof o.Value === 'string' ? o.Value : '', 'base64');
  if (value.length > MAX_VALUE_BYTES) throw new HttpError(413, `Operation ${i}: value exceeds ${MAX_VALUE_BYTES} bytes`);
  if (o.Session !== undefined && typeof o.Session !== 'string') throw bad('Session must be a string');
  return { verb: o.Verb, key: o.Key, value, flags: num('Flags', o.Flags), index: num('Index', o.Index), session: o.Session ?? '' };
}

function written(e: ReturnType<KvWrite['set']>): Outcome {
  return { results: [{ KV: entryJson(e, false) }] };
}

function applyOp(ctx: RouteContext, w: KvWrite, op: KvOp): Outcome {
  const current = ctx.state.get(op.key);
  switch (op.verb) {
    case 'set': return written(w.set(op.key, op.value, op.flags));
    case 'cas': {
      const why = w.casCheck(op.key, op.index);
      return why ? { error: `failed to set key "${op.key}": ${why}` } : written(w.set(op.key, op.value, op.flags));
    }
    case 'lock':
    case 'unlock': {
      const r = op.verb === 'lock' ? w.lock(op.key, op.value, op.flags, op.session) : w.unlock(op.key, op.value, op.flags, op.session);
      return r.ok ? written(r.entry) : { error: `failed to ${op.verb} key "${op.key}": ${r.why}` };
    }
    case 'get': return current ? { results: [{ KV: entryJson(current) }] } : { error: `key "${op.key}" doesn't exist` };
    case 'get-or-empty': return { results: [{ KV: current ? entryJson(current) : null }] };
    case 'get-tree': return { results: ctx.state.list(op.key).map((e) => ({ KV: entryJson(e) })) };
    case 'check-index':
      if (!current) return { error: `key "${op.key}" doesn't exist` };
      return current.modifyIndex === op.index ? { results: [] } : { error: `current modify index ${current.modifyIndex} != ${op.index}` };
    case 'check-session':
      return current?.session === op.session && op.session !== '' ? { results: [] } : { error: `key "${op.key}" is not locked by session "${op.session}"` };
    case 'check-not-exists': return current ? { error: `key "${op.key}" exists` } : { results: [] };
    case 'delete': w.delete(op.key); return { results: [] };
    case 'delete-tree': w.deleteTree(op.key); return { results: [] };
    case 'delete-cas':
      if (current && current.modifyIndex !== op.index) return { error: `failed to delete key "${op.key}": current modify index ${current.modifyIndex} != ${op.index}` };
      w.delete(op.key);
      return { results: [] };
    default: return { error: `unknown KV verb ${op.verb}` };
  }
}
