/**
 * EmbeddedStoreServer beyond the shared contract: Consul-compatible details (index headers,
 * locks, session behaviors, lock-delay, transactions), persistence across restarts
 * (snapshot + log, compaction, a torn last log line, session-held keys dropped on reload),
 * and ACL token enforcement as seen through openStore.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStoreServer, type EmbeddedStoreOptions } from '../../src/control/store/embedded-server.js';
import { openStore } from '../../src/control/store/store-url.js';
import type { KvStore } from '../../src/control/store/kv-store.js';
import { KvState } from '../../src/control/store/embedded/kv-state.js';
import { systemClock } from '../../src/lib/clock.js';

const dirs: string[] = [];
const servers: EmbeddedStoreServer[] = [];
const stores: KvStore[] = [];

function newDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ovn-embedded-srv-'));
  dirs.push(d);
  return d;
}

async function startServer(opts: Partial<EmbeddedStoreOptions> & { dataDir: string }): Promise<EmbeddedStoreServer> {
  const s = new EmbeddedStoreServer({ port: 0, fsync: false, ...opts });
  await s.start();
  servers.push(s);
  return s;
}

async function client(url: string, token?: string): Promise<KvStore> {
  const s = await openStore(url, { token });
  stores.push(s);
  return s;
}

interface Reply { status: number; body: string; index: number }

function http(srv: EmbeddedStoreServer, method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, method, path, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, index: Number(res.headers['x-consul-index'] ?? 0) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (r: Reply): unknown => JSON.parse(r.body);

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('embedded server: Consul semantics', () => {
  it('serves KV entries in Consul JSON shape with X-Consul-Index', async () => {
    const srv = await startServer({ dataDir: newDir() });
    expect((await http(srv, 'PUT', '/v1/kv/app/a?flags=42', 'hello')).body).toBe('true');
    await http(srv, 'PUT', '/v1/kv/app/b', '');
    const one = await http(srv, 'GET', '/v1/kv/app/a');
    expect(json(one)).toEqual([{ LockIndex: 0, Key: 'app/a', Flags: 42, Value: Buffer.from('hello').toString('base64'), CreateIndex: 1, ModifyIndex: 1 }]);
    const all = await http(srv, 'GET', '/v1/kv/app/?recurse');
    expect((json(all) as { Key: string; Value: unknown }[]).map((e) => [e.Key, e.Value])).toEqual([['app/a', Buffer.from('hello').toString('base64')], ['app/b', null]]);
    expect(all.index).toBe(2);
    expect(json(await http(srv, 'GET', '/v1/kv/app/?keys'))).toEqual(['app/a', 'app/b']);
    await http(srv, 'PUT', '/v1/kv/app/sub/c', 'x');
    expect(json(await http(srv, 'GET', '/v1/kv/app/?keys&separator=/'))).toEqual(['app/a', 'app/b', 'app/sub/']);
    expect((await http(srv, 'GET', '/v1/kv/app/a?raw')).body).toBe('hello');
    const missing = await http(srv, 'GET', '/v1/kv/nope');
    expect(missing.status).toBe(404);
    expect(missing.index).toBeGreaterThan(0);
  });

  it('keeps a prefix index from going backwards when its newest key is deleted (tombstones)', async () => {
    const srv = await startServer({ dataDir: newDir() });
    await http(srv, 'PUT', '/v1/kv/p/a', '1');
    await http(srv, 'PUT', '/v1/kv/p/b', '2');
    const before = (await http(srv, 'GET', '/v1/kv/p/?recurse')).index;
    await http(srv, 'DELETE', '/v1/kv/p/b');
    const after = (await http(srv, 'GET', '/v1/kv/p/?recurse')).index;
    expect(after).toBeGreaterThan(before);
  });

  it('blocks a query until its scope changes, and ignores writes elsewhere', async () => {
    const srv = await startServer({ dataDir: newDir() });
    await http(srv, 'PUT', '/v1/kv/w/a', '1');
    const idx = (await http(srv, 'GET', '/v1/kv/w/?recurse')).index;
    let settled = false;
    const pending = http(srv, 'GET', `/v1/kv/w/?recurse&index=${idx}&wait=10s`).then((r) => { settled = true; return r; });
    await http(srv, 'PUT', '/v1/kv/elsewhere', 'x');
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
    await http(srv, 'PUT', '/v1/kv/w/b', '2');
    const r = await pending;
    expect(r.index).toBeGreaterThan(idx);
    expect((json(r) as unknown[]).length).toBe(2);
  });

  it('implements acquire/release and session behaviors (release keeps keys, delete removes them)', async () => {
    const srv = await startServer({ dataDir: newDir() });
    const rel = (json(await http(srv, 'PUT', '/v1/session/create', '{"Behavior":"release","LockDelay":"0s"}')) as { ID: string }).ID;
    const del = (json(await http(srv, 'PUT', '/v1/session/create', '{"Behavior":"delete","LockDelay":0}')) as { ID: string }).ID;
    expect((await http(srv, 'PUT', `/v1/kv/l/r?acquire=${rel}`, 'r')).body).toBe('true');
    expect((await http(srv, 'PUT', `/v1/kv/l/d?acquire=${del}`, 'd')).body).toBe('true');
    expect((await http(srv, 'PUT', `/v1/kv/l/r?acquire=${del}`, 'stolen')).body).toBe('false');
    const held = json(await http(srv, 'GET', '/v1/kv/l/r')) as { Session: string; LockIndex: number }[];
    expect(held[0]).toMatchObject({ Session: rel, LockIndex: 1 });
    expect((await http(srv, 'PUT', `/v1/kv/l/r?release=${del}`, 'x')).body).toBe('false');
    expect((await http(srv, 'PUT', `/v1/session/destroy/${rel}`)).body).toBe('true');
    expect((await http(srv, 'PUT', `/v1/session/destroy/${del}`)).body).toBe('true');
    const r = json(await http(srv, 'GET', '/v1/kv/l/r')) as { Session?: string; Value: string }[];
    expect(r[0].Session).toBeUndefined();
    expect(Buffer.from(r[0].Value, 'base64').toString()).toBe('r');
    expect((await http(srv, 'GET', '/v1/kv/l/d')).status).toBe(404);
    expect(json(await http(srv, 'GET', `/v1/session/info/${rel}`))).toEqual([]);
    expect((await http(srv, 'PUT', `/v1/session/renew/${rel}`)).status).toBe(404);
  });

  it('applies lock-delay after a session ends', async () => {
    const srv = await startServer({ dataDir: newDir() });
    const a = (json(await http(srv, 'PUT', '/v1/session/create', '{"LockDelay":"400ms"}')) as { ID: string }).ID;
    const b = (json(await http(srv, 'PUT', '/v1/session/create', '{"LockDelay":"0s"}')) as { ID: string }).ID;
    await http(srv, 'PUT', `/v1/kv/ld?acquire=${a}`, 'a');
    await http(srv, 'PUT', `/v1/session/destroy/${a}`);
    expect((await http(srv, 'PUT', `/v1/kv/ld?acquire=${b}`, 'b')).body).toBe('false');
    await new Promise((r) => setTimeout(r, 500));
    expect((await http(srv, 'PUT', `/v1/kv/ld?acquire=${b}`, 'b')).body).toBe('true');
  });

  it('expires a TTL session at its TTL and reports its fields like Consul', async () => {
    const srv = await startServer({ dataDir: newDir() });
    const id = (json(await http(srv, 'PUT', '/v1/session/create', '{"Name":"n","TTL":"1s","Behavior":"delete","LockDelay":"0s"}')) as { ID: string }).ID;
    expect(json(await http(srv, 'GET', `/v1/session/info/${id}`))).toEqual([expect.objectContaining({ ID: id, Name: 'n', TTL: '1s', Behavior: 'delete', LockDelay: 0 })]);
    await http(srv, 'PUT', `/v1/kv/ttl?acquire=${id}`, 'x');
    await new Promise((r) => setTimeout(r, 1300));
    expect((await http(srv, 'GET', '/v1/kv/ttl')).status).toBe(404);
    expect((await http(srv, 'PUT', `/v1/session/renew/${id}`)).status).toBe(404);
    const short = await http(srv, 'PUT', '/v1/session/create', '{"TTL":"100ms"}');
    expect(short.status).toBe(400);
    expect(short.body).toMatch(/Invalid Session TTL/);
  });

  it('runs /v1/txn atomically: all at one index, or a 409 and nothing', async () => {
    const srv = await startServer({ dataDir: newDir() });
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const ok = await http(srv, 'PUT', '/v1/txn', JSON.stringify([
      { KV: { Verb: 'set', Key: 't/a', Value: b64('1') } },
      { KV: { Verb: 'cas', Key: 't/b', Value: b64('2'), Index: 0 } },
      { KV: { Verb: 'get', Key: 't/a' } },
    ]));
    expect(ok.status).toBe(200);
    const res = json(ok) as { Results: { KV: { ModifyIndex: number; Value: string | null } }[] };
    expect(res.Results.map((r) => r.KV.ModifyIndex)).toEqual([1, 1, 1]);
    expect(res.Results.map((r) => r.KV.Value)).toEqual([null, null, b64('1')]);
    const bad = await http(srv, 'PUT', '/v1/txn', JSON.stringify([
      { KV: { Verb: 'set', Key: 't/c', Value: b64('3') } },
      { KV: { Verb: 'cas', Key: 't/a', Value: b64('x'), Index: 99 } },
    ]));
    expect(bad.status).toBe(409);
    expect(json(bad)).toMatchObject({ Results: null, Errors: [{ OpIndex: 1 }] });
    expect((await http(srv, 'GET', '/v1/kv/t/c')).status).toBe(404);
    expect((await http(srv, 'GET', '/v1/kv/t/?recurse')).index).toBe(1);
  });
});

describe('embedded server: persistence', () => {
  it('keeps keys and indexes across a restart; new writes continue above the old index', async () => {
    const dir = newDir();
    let srv = await startServer({ dataDir: dir, fsync: true });
    let s = await client(srv.url);
    await s.put('k/a', 'A');
    const ib = await s.put('k/b', 'B');
    await s.delete('k/a');
    const port = srv.port;
    await srv.stop();
    srv = await startServer({ dataDir: dir, port });
    s = await client(srv.url);
    expect(await s.get('k/a')).toBeUndefined();
    expect(await s.get('k/b')).toEqual({ key: 'k/b', value: 'B', modifyIndex: ib });
    expect(await s.put('k/c', 'C')).toBeGreaterThan(ib + 1);
  });

  it('drops keys held by sessions when it reloads (their sessions did not survive)', async () => {
    const dir = newDir();
    let srv = await startServer({ dataDir: dir });
    const s = await client(srv.url);
    await s.register('nodes/n1', 'me', 30);
    await s.put('nodes/plain', 'stays');
    await s.close();
    stores.splice(0);
    const port = srv.port;
    await srv.stop();
    srv = await startServer({ dataDir: dir, port });
    const t = await client(srv.url);
    expect(await t.get('nodes/n1')).toBeUndefined();
    expect((await t.get('nodes/plain'))?.value).toBe('stays');
  });

  it('compacts its log into the snapshot and reloads the result', async () => {
    const dir = newDir();
    let srv = await startServer({ dataDir: dir, compactEvery: 10 });
    const s = await client(srv.url);
    for (let n = 0; n < 35; n++) await s.put(`c/${n % 5}`, String(n));
    const wal = readFileSync(join(dir, 'wal.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
    expect(wal.length).toBeLessThan(10);
    const before = await s.list('c/');
    const port = srv.port;
    await srv.stop();
    srv = await startServer({ dataDir: dir, port });
    const t = await client(srv.url);
    expect((await t.list('c/')).entries).toEqual(before.entries);
  });

  it('ignores a torn last log line but refuses a corrupt snapshot', async () => {
    const dir = newDir();
    let srv = await startServer({ dataDir: dir });
    const s = await client(srv.url);
    await s.put('x', '1');
    const port = srv.port;
    await srv.stop();
    appendFileSync(join(dir, 'wal.jsonl'), '{"i":99,"p":[{"k":"x","v":"');
    srv = await startServer({ dataDir: dir, port });
    expect((await (await client(srv.url)).get('x'))?.value).toBe('1');
    await srv.stop();
    appendFileSync(join(dir, 'snapshot.json'), 'garbage');
    const broken = new EmbeddedStoreServer({ dataDir: dir, port: 0 });
    await expect(broken.start()).rejects.toMatchObject({ code: 'OVN_ERR_STORE_PROTOCOL' });
  });
});

describe('embedded server: failures', () => {
  it('refuses an unusable data dir or a busy port with OVN_ERR_CONFIG', async () => {
    await expect(new EmbeddedStoreServer({ dataDir: '/etc/hostname/sub', port: 0 }).start()).rejects.toMatchObject({ code: 'OVN_ERR_CONFIG' });
    const first = await startServer({ dataDir: newDir() });
    const clash = new EmbeddedStoreServer({ dataDir: newDir(), port: first.port });
    await expect(clash.start()).rejects.toMatchObject({ code: 'OVN_ERR_CONFIG', message: expect.stringMatching(/cannot listen/) });
  });

  it('undoes a commit whose persistence failed', () => {
    let failing = false;
    const commits: number[] = [];
    const state = new KvState(systemClock, {
      sessionBehavior: () => undefined,
      persist: () => { if (failing) throw new Error('ENOSPC'); },
      onCommit: (rec) => commits.push(rec.index),
    }, { index: 0, floor: 0, entries: [], tombstones: [] });
    const w1 = state.begin();
    w1.set('a', Buffer.from('1'), 0);
    w1.commit();
    failing = true;
    const w2 = state.begin();
    w2.set('a', Buffer.from('2'), 0);
    w2.delete('a');
    w2.set('b', Buffer.from('3'), 0);
    expect(() => w2.commit()).toThrow(/ENOSPC/);
    expect(state.get('a')?.value.toString()).toBe('1');
    expect(state.get('b')).toBeUndefined();
    expect(state.tombstones.has('a')).toBe(false);
    expect(state.index).toBe(1);
    expect(commits).toEqual([1]);
  });
});

describe('embedded server: ACL token', () => {
  it('refuses requests without the token (OVN_ERR_PERMISSION) and accepts the option or CONSUL_HTTP_TOKEN', async () => {
    const srv = await startServer({ dataDir: newDir(), token: 's3cret' });
    const anon = await client(srv.url);
    await expect(anon.get('a')).rejects.toMatchObject({ code: 'OVN_ERR_PERMISSION' });
    await expect(anon.put('a', 'x')).rejects.toMatchObject({ code: 'OVN_ERR_PERMISSION' });
    const ok = await client(srv.url, 's3cret');
    await ok.put('a', 'x');
    const saved = process.env.CONSUL_HTTP_TOKEN;
    process.env.CONSUL_HTTP_TOKEN = 's3cret';
    try {
      expect((await (await client(srv.url)).get('a'))?.value).toBe('x');
    } finally {
      if (saved === undefined) delete process.env.CONSUL_HTTP_TOKEN; else process.env.CONSUL_HTTP_TOKEN = saved;
    }
    expect((await http(srv, 'GET', '/v1/status/leader')).status).toBe(200);
  });
});

describe('openStore against an unreachable server', () => {
  it('fails with a retryable OVN_ERR_STORE_UNREACHABLE', async () => {
    const srv = await startServer({ dataDir: newDir() });
    const url = srv.url;
    await srv.stop();
    const s = await client(url);
    await expect(s.get('a')).rejects.toMatchObject({ code: 'OVN_ERR_STORE_UNREACHABLE', retryable: true });
  });
});
