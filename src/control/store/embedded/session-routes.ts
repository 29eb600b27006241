/**
 * /v1/session/{create,renew/<id>,destroy/<id>,info/<id>,list}, after Consul's session API.
 * TTLs must lie in [minSessionTtl, 24h] (Consul: [10s, 24h]); LockDelay defaults to 15 s.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteContext } from './context.js';
import { parseDuration, parseLockDelay } from './duration.js';
import { HttpError, parseJsonBody, readBody, requireMethod, sendJson } from './http-io.js';
import { UUID_RE, type Session, type SessionSpec } from './sessions.js';

const MAX_TTL_MS = 86_400_000;

export function sessionJson(s: Session): Record<string, unknown> {
  return {
    ID: s.id, Name: s.name, Node: s.node, LockDelay: Math.round(s.lockDelayMs * 1e6), Behavior: s.behavior, TTL: s.ttl,
    NodeChecks: [], ServiceChecks: null, CreateIndex: s.createIndex, ModifyIndex: s.createIndex,
  };
}

export async function handleSession(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
  const [op, id, extra] = rest.split('/');
  if (extra !== undefined) throw new HttpError(404, 'Unknown session endpoint');
  if (op === 'create' && id === undefined) return create(ctx, req, res);
  if (op === 'list' && id === undefined) {
    requireMethod(req, 'GET');
    return sendJson(res, 200, ctx.sessions.list().map(sessionJson), ctx.state.index || 1);
  }
  if (!['renew', 'destroy', 'info'].includes(op) || id === undefined) throw new HttpError(404, 'Unknown session endpoint');
  if (!UUID_RE.test(id)) throw new HttpError(400, `Session ID must be a valid UUID, got ${JSON.stringify(id.slice(0, 64))}`);
  if (op === 'info') {
    requireMethod(req, 'GET');
    const s = ctx.sessions.get(id);
    return sendJson(res, 200, s ? [sessionJson(s)] : [], ctx.state.index || 1);
  }
  requireMethod(req, 'PUT');
  if (op === 'destroy') {
    ctx.sessions.destroy(id);
    return sendJson(res, 200, true);
  }
  const s = ctx.sessions.renew(id);
  if (!s) throw new HttpError(404, `Session id '${id}' not found`);
  sendJson(res, 200, [sessionJson(s)]);
}

async function create(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireMethod(req, 'PUT');
  const body = await readBody(req, 64 * 1024);
  const spec = parseSpec(ctx, body.length === 0 ? {} : parseJsonBody(body));
  const s = ctx.sessions.create(spec, ctx.state.index);
  sendJson(res, 200, { ID: s.id });
}

function parseSpec(ctx: RouteContext, body: unknown): SessionSpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'Request decode failed: session must be a JSON object');
  const o = body as Record<string, unknown>;
  const str = (name: string): string => {
    const v = o[name];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new HttpError(400, `Request decode failed: ${name} must be a string`);
    return v;
  };
  const behavior = str('Behavior') || 'release';
  if (behavior !== 'release' && behavior !== 'delete') throw new HttpError(400, `Invalid Behavior setting '${behavior.slice(0, 32)}'`);
  const ttl = str('TTL');
  const ttlMs = ttl === '' ? 0 : parseDuration(ttl);
  if (ttlMs === undefined) throw new HttpError(400, `Request decode failed: invalid TTL ${JSON.stringify(ttl.slice(0, 32))}`);
  if (ttl !== '' && (ttlMs < ctx.minSessionTtlMs || ttlMs > MAX_TTL_MS)) {
    throw new HttpError(400, `Invalid Session TTL '${ttl}', must be between [${ctx.minSessionTtlMs / 1000}s=24h0m0s]`);
  }
  const lockDelayMs = o.LockDelay === undefined || o.LockDelay === null ? 15_000 : parseLockDelay(o.LockDelay);
  if (lockDelayMs === undefined) throw new HttpError(400, 'Request decode failed: invalid LockDelay');
  return { name: str('Name'), node: str('Node') || 'embedded', behavior, ttl, ttlMs, lockDelayMs };
}
