/** `ovnetd create/ls/inspect/rm` through yargs, over the in-memory store. */
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import yargs from 'yargs';
import { MemoryStore } from '../helpers/memory-store.js';
import { networkCommands, DEFAULT_STORE_URL } from '../../src/cli/commands/networks.js';
import { KeyLayout } from '../../src/control/keys.js';
import { encodeEndpoint } from '../../src/control/documents.js';
import { isOvnError, type OvnError } from '../../src/lib/errors.js';
import type { KvStore } from '../../src/control/store/kv-store.js';

let store: MemoryStore;
let opened: { url: string; token?: string }[];
let closed: number;
let out: string[];
let err: string[];

beforeEach(() => {
  store = new MemoryStore();
  opened = [];
  closed = 0;
  out = [];
  err = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
});

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.CONSUL_HTTP_TOKEN;
});

async function run(...argv: string[]): Promise<string> {
  out = [];
  const cmds = networkCommands(async (url, opts) => {
    opened.push({ url, token: opts.token });
    // Each command closes its store; the shared memory store must outlive it.
    const view: KvStore = {
      url: store.url,
      get: (k) => store.get(k), list: (p) => store.list(p), put: (k, v) => store.put(k, v), cas: (k, v, i) => store.cas(k, v, i),
      delete: (k, i) => store.delete(k, i), watch: (p, f, o) => store.watch(p, f, o), register: (k, v, t) => store.register(k, v, t),
      close: async () => { closed++; },
    };
    return view;
  });
  await yargs(argv).command(cmds.create).command(cmds.ls).command(cmds.inspect).command(cmds.rm)
    .strict().exitProcess(false).fail((msg, e) => { throw e ?? new Error(msg); }).parseAsync();
  return out.join('');
}

async function refused(...argv: string[]): Promise<OvnError> {
  const e = await run(...argv).then(() => undefined, (x: unknown) => x);
  expect(isOvnError(e)).toBe(true);
  return e as OvnError;
}

describe('network commands', () => {
  it('create prints one line, --json the document; both use the default store URL and close it', async () => {
    expect(await run('create', 'blue', '--subnet', '10.1.0.0/24')).toBe('created network "blue": VNI 4096, subnet 10.1.0.0/24\n');
    const doc = JSON.parse(await run('create', 'red', '--subnet', 'fd00:1::/64', '--vni', '77', '--mtu', '1400', '--json'));
    expect(doc).toMatchObject({ version: 1, name: 'red', vni: 77, subnet: 'fd00:1::/64', mtu: 1400 });
    expect(opened.map((o) => o.url)).toEqual([DEFAULT_STORE_URL, DEFAULT_STORE_URL]);
    expect(closed).toBe(2);
  });

  it('ls shows a table, or JSON', async () => {
    await run('create', 'blue', '--subnet', '10.1.0.0/24');
    await run('create', 'amber', '--subnet', '10.2.0.0/24', '--mtu', '1450');
    const lines = (await run('ls')).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+VNI\s+SUBNET\s+MTU\s+CREATED$/);
    expect(lines[1]).toMatch(/^amber\s+4097\s+10\.2\.0\.0\/24\s+1450\s+\d{4}-/);
    expect(lines[2]).toMatch(/^blue\s+4096\s+10\.1\.0\.0\/24\s+auto\s+\d{4}-/);
    expect(JSON.parse(await run('ls', '--json')).map((n: { name: string }) => n.name)).toEqual(['amber', 'blue']);
  });

  it('inspect shows the network and its endpoints', async () => {
    await run('create', 'blue', '--subnet', '10.1.0.0/24');
    const keys = new KeyLayout();
    await store.put(keys.endpoint('blue', '10.1.0.5'), encodeEndpoint({
      version: 1, network: 'blue', ip: '10.1.0.5', mac: '02:00:00:00:00:05', host: 'host-a', name: 'web', createdAt: '2025-01-01T00:00:00.000Z',
    }));
    const text = await run('inspect', 'blue');
    expect(text).toMatch(/^name: +blue\nvni: +4096\nsubnet: +10\.1\.0\.0\/24\nmtu: +auto\ncreated: +\S+\nendpoints: 1\n\nIP +MAC +HOST +NAME\n10\.1\.0\.5 +02:00:00:00:00:05 +host-a +web\n$/);
    const j = JSON.parse(await run('inspect', 'blue', '--json'));
    expect(j.endpoints).toHaveLength(1);
    expect(j.vni).toBe(4096);
  });

  it('rm refuses with endpoints, removes with --force', async () => {
    await run('create', 'blue', '--subnet', '10.1.0.0/24');
    const keys = new KeyLayout();
    await store.put(keys.endpoint('blue', '10.1.0.5'), encodeEndpoint({
      version: 1, network: 'blue', ip: '10.1.0.5', mac: '02:00:00:00:00:05', host: 'host-a', createdAt: '2025-01-01T00:00:00.000Z',
    }));
    const e = await refused('rm', 'blue');
    expect(e.code).toBe('OVN_ERR_EXISTS');
    expect(await run('rm', 'blue', '--force')).toBe('removed network "blue" and 1 endpoint(s)\n');
    expect(store.dump()).toEqual([]);
    expect((await refused('rm', 'blue')).code).toBe('OVN_ERR_NOT_FOUND');
    expect(closed).toBe(opened.length);
  });

  it('refuses bad flags by name, before writing anything', async () => {
    const e1 = await refused('create', 'x', '--subnet', '10.0.0.0/24', '--vni', '12x');
    expect([e1.code, e1.message]).toEqual(['OVN_ERR_INVALID', 'VNI "12x" is not an integer in 1-16777215']);
    const e2 = await refused('create', 'x', '--subnet', '10.0.0.1/24');
    expect(e2.message).toBe('subnet "10.0.0.1/24" has host bits set (did you mean 10.0.0.0/24?)');
    const e3 = await refused('create', 'x', '--subnet', '10.0.0.0/24', '--mtu', '-5');
    expect(e3.message).toBe('MTU "-5" is not an integer in 576-65000');
    expect(store.index).toBe(0);
  });

  it('passes --store and the token ($CONSUL_HTTP_TOKEN unless --store-token) and honours --store-prefix', async () => {
    process.env.CONSUL_HTTP_TOKEN = 'from-env';
    await run('create', 'blue', '--subnet', '10.1.0.0/24', '--store', 'etcd://10.0.0.1:2379', '--store-prefix', 'lab');
    await run('ls', '--store-token', 'from-flag');
    expect(opened).toEqual([{ url: 'etcd://10.0.0.1:2379', token: 'from-env' }, { url: DEFAULT_STORE_URL, token: 'from-flag' }]);
    expect(store.dump().map((e) => e.key)).toEqual(['lab/v1/networks/blue']);
  });

  it('warns once per corrupted entry on stderr and lists the rest', async () => {
    await run('create', 'blue', '--subnet', '10.1.0.0/24');
    await store.put('ovnetd/v1/networks/junk', 'not json');
    const text = await run('ls');
    expect(text).toMatch(/^NAME.*\nblue /);
    expect(err.join('')).toBe('ovnetd: warning: skipping corrupted store entry ovnetd/v1/networks/junk: value is not valid JSON\n');
  });
});
