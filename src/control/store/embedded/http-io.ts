/**
 * Request parsing and response writing for the embedded server, defensive about every input:
 * bad paths, bad query values and oversized or malformed bodies become HttpError (4xx), which
 * the server turns into a plain-text reply the way Consul does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from './duration.js';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export interface Target {
  path: string;
  query: URLSearchParams;
}

/** Splits the request target without `new URL` (which would let "//host" change the authority). */
export function parseTarget(raw: string | undefined): Target {
  const url = raw ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new HttpError(400, 'Invalid URL path encoding');
  }
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  } catch {
    throw new HttpError(400, 'Invalid query string');
  }
  return { path, query };
}

const UINT64_MAX = (1n << 64n) - 1n;

/** An unsigned 64-bit query value (Consul's indexes and flags); undefined when absent. */
export function queryUint(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,20}$/.test(v) || BigInt(v) > UINT64_MAX) throw new HttpError(400, `Invalid ${name} value: ${JSON.stringify(v.slice(0, 40))}`);
  return Number(v);
}

/** Blocking-query wait in ms: default 5 min, capped at 10 min (Consul's limits). */
export function queryWait(query: URLSearchParams): number {
  const v = query.get('wait');
  if (v === null) return 5 * 60_000;
  const ms = parseDuration(v);
  if (ms === undefined) throw new HttpError(400, `Invalid wait time: ${JSON.stringify(v.slice(0, 40))}`);
  return Math.min(ms, 10 * 60_000);
}

export function queryFlag(query: URLSearchParams, name: string): boolean {
  return query.has(name);
}

/** Reads the whole body, refusing more than `limit` bytes (413) before buffering it. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new HttpError(413, `Request body too large, max size: ${limit} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new HttpError(413, `Request body too large, max size: ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `Request decode failed: ${err instanceof Error ? err.message : 'invalid JSON'}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, index?: number): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
  if (index !== undefined) {
    headers['X-Consul-Index'] = index;
    headers['X-Consul-KnownLeader'] = 'true';
    headers['X-Consul-LastContact'] = 0;
  }
  res.writeHead(status, headers).end(text);
}

export function sendRaw(res: ServerResponse, status: number, body: Buffer, index?: number): void {
  const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length };
  if (index !== undefined) headers['X-Consul-Index'] = index;
  res.writeHead(status, headers).end(body);
}

export function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}, index?: number): void {
  const headers: Record<string, string | number> = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra };
  if (index !== undefined) headers['X-Consul-Index'] = index;
  res.writeHead(status, headers).end(text);
}

export function requireMethod(req: IncomingMessage, ...allowed: string[]): void {
  if (!allowed.includes(req.method ?? '')) {
    throw new HttpError(405, `Method ${req.method} not allowed; use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
  }
}
