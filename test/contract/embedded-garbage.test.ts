/**
 * The embedded server never crashes on bad input: malformed JSON, bad query values, huge
 * indexes, oversized bodies, unknown paths and non-HTTP bytes each get a clear 4xx (or a
 * closed connection for non-HTTP), and the server keeps serving afterwards.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStoreServer } from '../../src/control/store/embedded-server.js';

let dir = '';
let server: EmbeddedStoreServer;

interface Reply { status: number; body: string; headers: Record<string, string | string[] | undefined> }

function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function rawTcp(bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(server.port, '127.0.0.1', () => s.end(bytes));
    let out = '';
    s.on('data', (d) => { out += d.toString(); });
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
  });
}

async function stillServing(): Promise<void> {
  const r = await send('GET', '/v1/status/leader');
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body)).toBe(`127.0.0.1:${server.port}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ovn-garbage-'));
  server = new EmbeddedStoreServer({ dataDir: dir, port: 0, fsync: false });
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('embedded server input hardening', () => {
  it('rejects malformed JSON bodies with 400', async () => {
    for (const [path, body] of [
      ['/v1/session/create', '{"TTL": "10s"'],
      ['/v1/session/create', '[1,2]'],
      ['/v1/session/create', '{"TTL": 10}'],
      ['/v1/session/create', '{"Behavior": "explode"}'],
      ['/v1/session/create', '{"TTL": "banana"}'],
      ['/v1/session/create', '{"LockDelay": {}}'],
      ['/v1/txn', 'not json'],
      ['/v1/txn', '{"KV": {}}'],
      ['/v1/txn', '[]'],
      ['/v1/txn', '[{"KV": {"Verb": "explode", "Key": "a"}}]'],
      ['/v1/txn', '[{"KV": {"Verb": "set", "Key": 7}}]'],
      ['/v1/txn', '[{"KV": {"Verb": "set", "Key": "a", "Value": "%%%"}}]'],
      ['/v1/txn', '[{"KV": {"Verb": "cas", "Key": "a", "Index": -1}}]'],
      ['/v1/txn', '[{"Node": {"Verb": "set"}}]'],
      ['/v1/txn', '[null]'],
    ] as const) {
      const r = await send('PUT', path, body);
      expect(r.status, `${path} ${body} -> ${r.body}`).toBe(400);
      expect(r.body.length).toBeGreaterThan(0);
    }
    await stillServing();
  });

  it('rejects bad query parameters with 400', async () => {
    for (const [method, path] of [
      ['GET', '/v1/kv/a?index=abc'],
      ['GET', '/v1/kv/a?index=-1'],
      ['GET', '/v1/kv/a?index=99999999999999999999999'],
      ['GET', '/v1/kv/a?index=18446744073709551616'],
      ['GET', '/v1/kv/a?wait=forever'],
      ['GET', '/v1/kv/a?wait=10'],
      ['PUT', '/v1/kv/a?cas=-1'],
      ['PUT', '/v1/kv/a?cas=1.5'],
      ['PUT', '/v1/kv/a?flags=x'],
      ['PUT', '/v1/kv/a?acquire='],
      ['PUT', '/v1/kv/a?acquire=no-such-session'],
      ['DELETE', '/v1/kv/a?recurse&cas=3'],
      ['GET', '/v1/kv/%zz'],
      ['GET', '/v1/kv/'],
      ['PUT', '/v1/kv/'],
      ['PUT', '/v1/session/renew/not-a-uuid'],
    ] as const) {
      const r = await send(method, path, method === 'PUT' ? 'x' : undefined);
      expect(r.status, `${method} ${path} -> ${r.body}`).toBe(400);
    }
    await stillServing();
  });

  it('treats the largest uint64 index as a blocking query that times out with a lower index', async () => {
    await send('PUT', '/v1/kv/huge', 'v');
    const t0 = Date.now();
    const r = await send('GET', '/v1/kv/huge?index=18446744073709551615&wait=200ms');
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(Number(r.headers['x-consul-index'])).toBeLessThan(2 ** 53);
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    expect((await send('GET', '/')).status).toBe(404);
    expect((await send('GET', '/v1/agent/self')).status).toBe(404);
    expect((await send('GET', '/v1/session/frobnicate/x/y')).status).toBe(404);
    expect((await send('PUT', '/v1/session/destroy/../../etc')).status).toBe(404);
    const r = await send('POST', '/v1/kv/a', 'x');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, PUT, DELETE');
    expect((await send('DELETE', '/v1/status/leader')).status).toBe(405);
    expect((await send('GET', '/v1/txn')).status).toBe(405);
    expect((await send('PUT', `/v1/session/renew/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`)).status).toBe(404);
    await stillServing();
  });

  it('refuses oversized values and transactions with 413', async () => {
    expect((await send('PUT', '/v1/kv/big', Buffer.alloc(600 * 1024, 1))).status).toBe(413);
    const ops = Array.from({ length: 200 }, (_, i) => ({ KV: { Verb: 'set', Key: `k${i}`, Value: '' } }));
    expect((await send('PUT', '/v1/txn', JSON.stringify(ops))).status).toBe(413);
    await stillServing();
  });

  it('survives bytes that are not HTTP', async () => {
    const reply = await rawTcp(Buffer.from('\x00\x01\x02GARBAGE\r\n\r\n\xff\xfe'));
    expect(reply === '' || reply.startsWith('HTTP/1.1 400')).toBe(true);
    await rawTcp(Buffer.from('GET /v1/kv/a HTTP/1.1\r\nContent-Length: nope\r\n\r\n'));
    await stillServing();
  });

  it('never answers random requests with a 5xx', async () => {
    const method = fc.constantFrom('GET', 'PUT', 'DELETE', 'POST');
    const base = fc.constantFrom('/v1/kv/', '/v1/txn', '/v1/session/create', '/v1/session/renew/', '/v1/session/info/', '/v1/status/leader', '/v1/');
    const param = fc.tuple(fc.constantFrom('index', 'wait', 'cas', 'flags', 'recurse', 'keys', 'raw', 'acquire', 'release', 'separator', 'token'),
      fc.oneof(fc.string({ maxLength: 12 }), fc.bigInt({ min: -5n, max: 1n << 70n }).map(String), fc.constantFrom('1ms', '0', '')));
    const body = fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 }),
      fc.array(fc.record({ KV: fc.record({ Verb: fc.constantFrom('set', 'cas', 'get', 'delete', 'lock', 'check-index'), Key: fc.string({ maxLength: 8 }), Index: fc.integer({ min: 0, max: 5 }) }) }), { maxLength: 4 }).map((x) => JSON.stringify(x)));
    await fc.assert(fc.asyncProperty(method, base, fc.string({ maxLength: 16 }), fc.array(param, { maxLength: 3 }), body, async (m, b, tail, params, payload) => {
      // A blocking query without wait would hold for Consul's default 5 minutes.
      if (params.some(([k]) => k === 'index') && !params.some(([k]) => k === 'wait')) params.push(['wait', '20ms']);
      const q = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
      const path = `${b}${encodeURIComponent(tail)}${q ? `?${q}` : ''}`;
      const r = await send(m, path, m === 'GET' ? undefined : payload);
      expect(r.status, `${m} ${path} -> ${r.status} ${r.body}`).toBeLessThan(500);
    }), { numRuns: 300 });
    await stillServing();
  }, 60_000);
});
