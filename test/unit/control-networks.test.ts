import { describe, it, expect, beforeEach } from 'vitest';
import { MemoryStore } from '../helpers/memory-store.js';
import { NetworkRegistry, allocateVni, networksFromEvents, FIRST_AUTO_VNI, type CreateNetworkRequest } from '../../src/control/networks.js';
import { CorruptionReporter, encodeEndpoint, encodeNetwork, MAX_VNI, type NetworkDoc } from '../../src/control/documents.js';
import { KeyLayout } from '../../src/control/keys.js';
import { encodeLock } from '../../src/control/lock.js';
import { isOvnError, type OvnError, type OvnErrorCode } from '../../src/lib/errors.js';
import type { KvEntry } from '../../src/control/store/kv-store.js';

const keys = new KeyLayout('ovnetd/');
const NOW = new Date('2025-01-02T03:04:05.000Z');

function registry(store: MemoryStore, opts: { reporter?: CorruptionReporter; deadlineMs?: number; owner?: string } = {}) {
  return new NetworkRegistry(store, 'ovnetd/', {
    reporter: opts.reporter,
    now: () => NOW,
    lock: { deadlineMs: opts.deadlineMs ?? 5_000, owner: opts.owner },
  });
}

async function caught(p: Promise<unknown>): Promise<OvnError> {
  const r = await p.then(() => undefined, (e: unknown) => e);
  if (r === undefined) throw new Error('expected a refusal, got success');
  return r as OvnError;
}

function doc(name: string, vni: number, subnet: string): NetworkDoc {
  return { version: 1, name, vni, subnet, createdAt: NOW.toISOString() };
}

function endpointValue(network: string, ip: string): string {
  return encodeEndpoint({ version: 1, network, ip, mac: '02:42:0a:00:00:05', host: 'host-a', createdAt: NOW.toISOString() });
}

describe('NetworkRegistry.create', () => {
  let store: MemoryStore;
  let reg: NetworkRegistry;

  beforeEach(async () => {
    store = new MemoryStore();
    reg = registry(store);
    await reg.create({ name: 'blue', subnet: '10.1.2.0/24' });
    await reg.create({ name: 'green', subnet: 'fd00:77::/64', vni: 5000 });
  });

  it('writes a validated document, allocating the lowest free VNI from 4096', async () => {
    const red = await reg.create({ name: 'red', subnet: '10.9.0.0/16', mtu: 1400 });
    expect(red).toEqual({ version: 1, name: 'red', vni: FIRST_AUTO_VNI + 1, subnet: '10.9.0.0/16', mtu: 1400, createdAt: NOW.toISOString() });
    const entry = await store.get('ovnetd/v1/networks/red');
    expect(JSON.parse(entry!.value)).toEqual(red);
    expect(await store.get(keys.networksLock)).toBeUndefined();
    expect((await reg.list()).map((n) => [n.name, n.vni])).toEqual([['blue', 4096], ['green', 5000], ['red', 4097]]);
  });

  it('fills the lowest gap after a removal', async () => {
    await reg.create({ name: 'c', subnet: '10.3.0.0/16' });
    await reg.remove('blue');
    expect((await reg.create({ name: 'd', subnet: '10.4.0.0/16' })).vni).toBe(4096);
  });

  it('accepts IPv6 subnets, stores them canonically, and keeps families apart', async () => {
    const v6 = await reg.create({ name: 'v6', subnet: 'FD00:0078:0000:0000::/64', mtu: 1280 });
    expect(v6.subnet).toBe('fd00:78::/64');
    // 10.0.0.0/8 and ::/0-ish IPv6 ranges never overlap across families.
    const wide = await reg.create({ name: 'wide6', subnet: 'fd01::/16' });
    expect(wide.subnet).toBe('fd01::/16');
    const err = await caught(reg.create({ name: 'v6b', subnet: 'fd00:78::/48' }));
    expect(err.code).toBe('OVN_ERR_EXISTS');
    expect(err.message).toBe('subnet fd00:78::/48 overlaps network "v6" (fd00:78::/64)');
  });

  const refusals: [string, CreateNetworkRequest, OvnErrorCode, RegExp][] = [
    ['upper-case name', { name: 'Blue', subnet: '10.5.0.0/24' }, 'OVN_ERR_INVALID', /^network name "Blue" is not valid \(use 1-32 of a-z, 0-9 and "-"\)$/],
    ['empty name', { name: '', subnet: '10.5.0.0/24' }, 'OVN_ERR_INVALID', /^network name "" is not valid/],
    ['33-character name', { name: 'a'.repeat(33), subnet: '10.5.0.0/24' }, 'OVN_ERR_INVALID', /^network name "a{33}" is not valid/],
    ['name with a slash', { name: 'a/b', subnet: '10.5.0.0/24' }, 'OVN_ERR_INVALID', /^network name "a\/b" is not valid/],
    ['missing subnet', { name: 'x', subnet: '' }, 'OVN_ERR_INVALID', /^a subnet is required/],
    ['malformed CIDR', { name: 'x', subnet: '10.5.0.0' }, 'OVN_ERR_INVALID', /^subnet "10\.5\.0\.0" is not a CIDR/],
    ['not an address', { name: 'x', subnet: '300.1.1.0/24' }, 'OVN_ERR_INVALID', /^subnet "300\.1\.1\.0\/24": "300\.1\.1\.0" is not an IP address$/],
    ['prefix too long', { name: 'x', subnet: '10.5.0.0/33' }, 'OVN_ERR_INVALID', /^subnet "10\.5\.0\.0\/33": prefix \/33 is longer than 32 bits$/],
    ['host bits set', { name: 'x', subnet: '10.5.0.1/24' }, 'OVN_ERR_INVALID', /^subnet "10\.5\.0\.1\/24" has host bits set \(did you mean 10\.5\.0\.0\/24\?\)$/],
    ['IPv6 host bits set', { name: 'x', subnet: 'fd00:99::1/64' }, 'OVN_ERR_INVALID', /has host bits set \(did you mean fd00:99::\/64\?\)$/],
    ['no room for endpoints', { name: 'x', subnet: '10.5.0.0/30' }, 'OVN_ERR_INVALID', /^subnet "10\.5\.0\.0\/30": a \/30 leaves no room for endpoints/],
    ['no room (IPv6)', { name: 'x', subnet: 'fd00:99::/127' }, 'OVN_ERR_INVALID', /leaves no room for endpoints \(use \/125 or shorter\)$/],
    ['VNI 0', { name: 'x', subnet: '10.5.0.0/24', vni: 0 }, 'OVN_ERR_INVALID', /^VNI 0 is not an integer in 1-16777215$/],
    ['VNI too large', { name: 'x', subnet: '10.5.0.0/24', vni: MAX_VNI + 1 }, 'OVN_ERR_INVALID', /^VNI 16777216 is not an integer in 1-16777215$/],
    ['fractional VNI', { name: 'x', subnet: '10.5.0.0/24', vni: 7.5 }, 'OVN_ERR_INVALID', /^VNI 7\.5 is not an integer/],
    ['VNI text', { name: 'x', subnet: '10.5.0.0/24', vni: '12x' as unknown as number }, 'OVN_ERR_INVALID', /^VNI "12x" is not an integer/],
    ['MTU too small', { name: 'x', subnet: '10.5.0.0/24', mtu: 500 }, 'OVN_ERR_INVALID', /^MTU 500 is not an integer in 576-65000$/],
    ['MTU too large', { name: 'x', subnet: '10.5.0.0/24', mtu: 65_001 }, 'OVN_ERR_INVALID', /^MTU 65001 is not an integer in 576-65000$/],
    ['IPv6 MTU below 1280', { name: 'x', subnet: 'fd00:99::/64', mtu: 1279 }, 'OVN_ERR_INVALID', /^MTU 1279 is not an integer in 1280-65000 \(IPv6 needs at least 1280\)$/],
    ['duplicate name', { name: 'blue', subnet: '10.5.0.0/24' }, 'OVN_ERR_EXISTS', /^network "blue" already exists \(VNI 4096, subnet 10\.1\.2\.0\/24\)$/],
    ['same subnet', { name: 'x', subnet: '10.1.2.0/24' }, 'OVN_ERR_EXISTS', /^subnet 10\.1\.2\.0\/24 overlaps network "blue" \(10\.1\.2\.0\/24\)$/],
    ['enclosing subnet', { name: 'x', subnet: '10.0.0.0/8' }, 'OVN_ERR_EXISTS', /^subnet 10\.0\.0\.0\/8 overlaps network "blue" \(10\.1\.2\.0\/24\)$/],
    ['enclosed subnet', { name: 'x', subnet: '10.1.2.128/25' }, 'OVN_ERR_EXISTS', /^subnet 10\.1\.2\.128\/25 overlaps network "blue"/],
    ['overlapping IPv6', { name: 'x', subnet: 'fd00:77::/32' }, 'OVN_ERR_EXISTS', /^subnet fd00:77::\/32 overlaps network "green" \(fd00:77::\/64\)$/],
    ['duplicate VNI', { name: 'x', subnet: '10.5.0.0/24', vni: 5000 }, 'OVN_ERR_EXISTS', /^VNI 5000 is already used by network "green"$/],
    ['duplicate auto-range VNI', { name: 'x', subnet: '10.5.0.0/24', vni: 4096 }, 'OVN_ERR_EXISTS', /^VNI 4096 is already used by network "blue"$/],
  ];

  it.each(refusals)('refuses %s with one line and leaves the store unchanged', async (_what, req, code, message) => {
    const before = store.dump();
    const indexBefore = store.index;
    const err = await caught(reg.create(req));
    expect(isOvnError(err, code)).toBe(true);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
    expect(store.dump()).toEqual(before);
    // Input errors are refused before the store is touched at all.
    if (code === 'OVN_ERR_INVALID') expect(store.index).toBe(indexBefore);
  });

  it('refuses a name whose key holds a corrupted document, and says how to fix it', async () => {
    await store.put('ovnetd/v1/networks/broken', '{oops');
    const before = store.dump();
    const err = await caught(reg.create({ name: 'broken', subnet: '10.5.0.0/24' }));
    expect(err.code).toBe('OVN_ERR_EXISTS');
    expect(err.message).toBe('network "broken" already exists but its document is corrupted (ovnetd/v1/networks/broken); remove it with rm first');
    expect(store.dump()).toEqual(before);
  });

  it('keeps names unique by create-only CAS even when the lock did not exclude a racer', async () => {
    // A racer that ignores the lock writes the same name between our listing and our write.
    const racy = new (class extends MemoryStore {
      override async cas(key: string, value: string, expect: number) {
        if (key === 'ovnetd/v1/networks/dup') await super.put(key, encodeNetwork(doc('dup', 9999, '10.99.0.0/16')));
        return super.cas(key, value, expect);
      }
    })();
    const err = await caught(registry(racy).create({ name: 'dup', subnet: '10.5.0.0/24' }));
    expect(err.code).toBe('OVN_ERR_EXISTS');
    expect(err.message).toBe('network "dup" already exists (created concurrently)');
    expect(JSON.parse((await racy.get('ovnetd/v1/networks/dup'))!.value).vni).toBe(9999);
    expect(await racy.get(keys.networksLock)).toBeUndefined();
  });

  it('does not write when its lock was taken over mid-way, and leaves the new holder\'s lock alone', async () => {
    const other = encodeLock('other-host:1:aa', Date.now() + 60_000);
    const stealing = new (class extends MemoryStore {
      override async list(prefix: string) {
        if (prefix === keys.networksPrefix) await super.put(keys.networksLock, other);
        return super.list(prefix);
      }
    })();
    const err = await caught(registry(stealing).create({ name: 'late', subnet: '10.5.0.0/24' }));
    expect(err.code).toBe('OVN_ERR_STORE_CONFLICT');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/lock expired and was taken by another process/);
    expect(await stealing.get('ovnetd/v1/networks/late')).toBeUndefined();
    expect((await stealing.get(keys.networksLock))!.value).toBe(other);
  });

  it('breaks a lock left behind by a dead process once it has expired', async () => {
    await store.put(keys.networksLock, encodeLock('dead-host:42:00', Date.now() - 1));
    const n = await reg.create({ name: 'after-crash', subnet: '10.6.0.0/24' });
    expect(n.vni).toBe(4097);
    expect(await store.get(keys.networksLock)).toBeUndefined();
  });

  it('gives up on a live lock at its deadline with a clear conflict, store unchanged', async () => {
    const until = Date.now() + 60_000;
    await store.put(keys.networksLock, encodeLock('busy-host:7:bb', until));
    const before = store.dump();
    const err = await caught(registry(store, { deadlineMs: 60 }).create({ name: 'waiting', subnet: '10.6.0.0/24' }));
    expect(err.code).toBe('OVN_ERR_STORE_CONFLICT');
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(
      `could not take the network-creation lock (ovnetd/v1/locks/networks) within 0.06s: held by busy-host:7:bb until ${new Date(until).toISOString()}; retry, or wait for it to expire`);
    expect(store.dump()).toEqual(before);
  });
});

describe('NetworkRegistry under concurrency', () => {
  it('10 parallel creates from 10 processes get 10 distinct VNIs', async () => {
    const store = new MemoryStore();
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      registry(store, { owner: `host-${i}` }).create({ name: `net-${i}`, subnet: `10.${i}.0.0/16` })));
    const vnis = made.map((n) => n.vni).sort((a, b) => a - b);
    expect(vnis).toEqual(Array.from({ length: 10 }, (_, i) => FIRST_AUTO_VNI + i));
    expect((await registry(store).list()).map((n) => n.name)).toEqual(made.map((n) => n.name).sort());
    expect(await store.get(keys.networksLock)).toBeUndefined();
  });

  it('two parallel creates of one name: one success, one clear OVN_ERR_EXISTS', async () => {
    const store = new MemoryStore();
    const results = await Promise.allSettled([
      registry(store, { owner: 'a' }).create({ name: 'same', subnet: '10.1.0.0/24' }),
      registry(store, { owner: 'b' }).create({ name: 'same', subnet: '10.2.0.0/24' }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(isOvnError(failed[0].reason, 'OVN_ERR_EXISTS')).toBe(true);
    expect(failed[0].reason.message).toMatch(/^network "same" already exists \(VNI 4096, subnet 10\.[12]\.0\.0\/24\)$/);
    expect(await registry(store).list()).toHaveLength(1);
  });

  it('two parallel creates of overlapping subnets: one success, one overlap refusal', async () => {
    const store = new MemoryStore();
    const results = await Promise.allSettled([
      registry(store, { owner: 'a' }).create({ name: 'left', subnet: '10.0.0.0/16' }),
      registry(store, { owner: 'b' }).create({ name: 'right', subnet: '10.0.128.0/17' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(failed.reason.code).toBe('OVN_ERR_EXISTS');
    expect(failed.reason.message).toMatch(/overlaps network/);
  });
});

describe('NetworkRegistry reading corrupted entries', () => {
  async function seeded() {
    const store = new MemoryStore();
    const seen: [string, string][] = [];
    const reporter = new CorruptionReporter((key, reason) => seen.push([key, reason]));
    const reg = registry(store, { reporter });
    await reg.create({ name: 'good', subnet: '10.1.0.0/24' });
    await reg.create({ name: 'also-good', subnet: 'fd00:1::/64' });
    const bad: Record<string, string> = {
      'ovnetd/v1/networks/bad-json': '{"version":1,',
      'ovnetd/v1/networks/old': JSON.stringify({ ...doc('old', 7, '10.7.0.0/24'), version: 2 }),
      'ovnetd/v1/networks/no-version': JSON.stringify({ name: 'no-version', vni: 8, subnet: '10.8.0.0/24', createdAt: NOW.toISOString() }),
      'ovnetd/v1/networks/mismatch': encodeNetwork(doc('other', 9, '10.9.0.0/24')),
      'ovnetd/v1/networks/bad-vni': JSON.stringify(doc('bad-vni', 0, '10.10.0.0/24')),
      'ovnetd/v1/networks/Not_A_Name': encodeNetwork(doc('good', 11, '10.11.0.0/24')),
      'ovnetd/v1/networks/nested/key': 'x',
      'ovnetd/v1/networks/array': '[1,2]',
    };
    for (const [k, v] of Object.entries(bad)) await store.put(k, v);
    await store.put('ovnetd/v2/networks/future', 'whatever'); // another layout version: not ours to read
    await store.put('elsewhere/v1/networks/good', 'x'); // another prefix
    return { store, reg, reporter, seen, bad };
  }

  it('skips them, reports each once with a reason, counts every meeting, keeps the valid ones', async () => {
    const { reg, reporter, seen, bad } = await seeded();
    const names = (await reg.list()).map((n) => n.name);
    expect(names).toEqual(['also-good', 'good']);
    await reg.list();
    await reg.list();
    expect(seen.map(([k]) => k).sort()).toEqual(Object.keys(bad).sort());
    const reason = Object.fromEntries(seen);
    expect(reason['ovnetd/v1/networks/bad-json']).toBe('value is not valid JSON');
    expect(reason['ovnetd/v1/networks/old']).toMatch(/unsupported document version 2/);
    expect(reason['ovnetd/v1/networks/no-version']).toMatch(/unsupported document version undefined/);
    expect(reason['ovnetd/v1/networks/mismatch']).toBe('document names network "other" but sits at key of "mismatch"');
    expect(reason['ovnetd/v1/networks/bad-vni']).toMatch(/^VNI 0 is not an integer/);
    expect(reason['ovnetd/v1/networks/Not_A_Name']).toBe('key is not a network key of this layout');
    expect(reason['ovnetd/v1/networks/nested/key']).toBe('key is not a network key of this layout');
    expect(reason['ovnetd/v1/networks/array']).toBe('value is not a JSON object');
    expect(reporter.total).toBe(3 * Object.keys(bad).length);
    for (const k of Object.keys(bad)) expect(reporter.count(k)).toBe(3);
  });

  it('still creates networks next to them, and rm clears a corrupted one', async () => {
    const { reg, store, reporter } = await seeded();
    expect((await reg.create({ name: 'fresh', subnet: '10.20.0.0/24' })).vni).toBe(4098);
    const r = await reg.remove('bad-json');
    expect(r).toEqual({ name: 'bad-json', network: undefined, removedEndpoints: 0 });
    expect(await store.get('ovnetd/v1/networks/bad-json')).toBeUndefined();
    expect(reporter.count('ovnetd/v1/networks/bad-json')).toBe(0);
  });

  it('inspect names the corruption instead of returning garbage', async () => {
    const { reg } = await seeded();
    const err = await caught(reg.inspect('old'));
    expect(err.code).toBe('OVN_ERR_STORE_PROTOCOL');
    expect(err.message).toMatch(/^network "old" is corrupted in the store \(ovnetd\/v1\/networks\/old: unsupported document version 2/);
  });
});

describe('NetworkRegistry.inspect and remove', () => {
  let store: MemoryStore;
  let reg: NetworkRegistry;

  beforeEach(async () => {
    store = new MemoryStore();
    reg = registry(store);
    await reg.create({ name: 'blue', subnet: '10.1.0.0/24' });
    await reg.create({ name: 'blue2', subnet: '10.2.0.0/24' });
    await store.put(keys.endpoint('blue', '10.1.0.5'), endpointValue('blue', '10.1.0.5'));
    await store.put(keys.endpoint('blue', '10.1.0.6'), endpointValue('blue', '10.1.0.6'));
    await store.put(keys.endpoint('blue2', '10.2.0.5'), endpointValue('blue2', '10.2.0.5'));
  });

  it('inspect returns the document; unknown names are OVN_ERR_NOT_FOUND, bad ones OVN_ERR_INVALID', async () => {
    expect(await reg.inspect('blue')).toEqual(doc('blue', 4096, '10.1.0.0/24'));
    const missing = await caught(reg.inspect('nope'));
    expect([missing.code, missing.message]).toEqual(['OVN_ERR_NOT_FOUND', 'no network named "nope"']);
    expect((await caught(reg.inspect('NOPE'))).code).toBe('OVN_ERR_INVALID');
    expect((await reg.listEndpoints('blue')).map((e) => e.ip)).toEqual(['10.1.0.5', '10.1.0.6']);
  });

  it('rm refuses while endpoints exist, naming them, store unchanged', async () => {
    const before = store.dump();
    const err = await caught(reg.remove('blue'));
    expect(err.code).toBe('OVN_ERR_EXISTS');
    expect(err.message).toBe('network "blue" still has 2 endpoint(s) (10.1.0.5, 10.1.0.6); detach them first, or remove with --force');
    expect(store.dump()).toEqual(before);
  });

  it('rm of an unknown network is OVN_ERR_NOT_FOUND, store unchanged', async () => {
    const before = store.dump();
    const err = await caught(reg.remove('nope', { force: true }));
    expect([err.code, err.message]).toEqual(['OVN_ERR_NOT_FOUND', 'no network named "nope"']);
    expect(store.dump()).toEqual(before);
  });

  it('rm --force deletes the network and its endpoints only', async () => {
    const r = await reg.remove('blue', { force: true });
    expect(r).toEqual({ name: 'blue', network: doc('blue', 4096, '10.1.0.0/24'), removedEndpoints: 2 });
    expect(store.dump().map((e) => e.key)).toEqual([keys.endpoint('blue2', '10.2.0.5'), keys.network('blue2')]);
  });

  it('rm without endpoints needs no force; a network named as a prefix of another is not confused', async () => {
    await store.delete(keys.endpoint('blue2', '10.2.0.5'));
    expect(await reg.remove('blue2')).toEqual({ name: 'blue2', network: doc('blue2', 4097, '10.2.0.0/24'), removedEndpoints: 0 });
    expect(store.dump().filter((e) => e.key.startsWith(keys.networksPrefix)).map((e) => e.key)).toEqual([keys.network('blue')]);
  });
});

describe('watching networks', () => {
  async function until(cond: () => boolean): Promise<void> {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
    expect(cond()).toBe(true);
  }

  it('follows creates, removals and corruptions through the store watch', async () => {
    const store = new MemoryStore();
    const seen: string[] = [];
    const reg = new NetworkRegistry(store, 'ovnetd/', { reporter: new CorruptionReporter((k) => seen.push(k)) });
    await reg.create({ name: 'pre', subnet: '10.0.0.0/24' });
    const ac = new AbortController();
    let latest = new Map<string, NetworkDoc>();
    let calls = 0;
    reg.watch((m) => { latest = m; calls++; }, { signal: ac.signal });
    await until(() => latest.has('pre'));
    await reg.create({ name: 'next', subnet: '10.0.1.0/24' });
    await until(() => latest.has('next'));
    expect(latest.get('next')!.vni).toBe(4097);
    await store.put(keys.network('pre'), '{garbage');
    await until(() => !latest.has('pre'));
    expect(seen).toEqual([keys.network('pre')]);
    await store.put(keys.hostsPrefix + 'h1', 'not watched');
    await reg.remove('next');
    await until(() => latest.size === 0);
    const callsBefore = calls;
    ac.abort();
    await reg.create({ name: 'late', subnet: '10.0.2.0/24' });
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toBe(callsBefore);
  });

  it('networksFromEvents decodes a reset/put/delete sequence', () => {
    const reporter = new CorruptionReporter();
    const e = (name: string, vni: number, subnet: string, index: number): KvEntry => ({ key: keys.network(name), value: encodeNetwork(doc(name, vni, subnet)), modifyIndex: index });
    const m = networksFromEvents(keys, [
      { type: 'reset', entries: [e('a', 1, '10.0.0.0/24', 1), e('b', 2, '10.0.1.0/24', 2), { key: keys.network('c'), value: 'x', modifyIndex: 3 }], index: 3 },
      { type: 'put', entry: e('d', 4, '10.0.3.0/24', 4), index: 4 },
      { type: 'put', entry: { key: keys.network('b'), value: '{}', modifyIndex: 5 }, index: 5 },
      { type: 'delete', key: keys.network('a'), index: 6 },
      { type: 'put', entry: { key: 'ovnetd/v1/networks/X', value: 'x', modifyIndex: 7 }, index: 7 },
    ], reporter);
    expect([...m.keys()]).toEqual(['d']);
    expect(reporter.keys().sort()).toEqual([keys.network('b'), keys.network('c'), 'ovnetd/v1/networks/X'].sort());
  });
});

describe('allocateVni', () => {
  it('returns the lowest free id from the start, or undefined when none is left', () => {
    expect(allocateVni(new Set())).toBe(4096);
    expect(allocateVni(new Set([4096, 4097, 4099]))).toBe(4098);
    expect(allocateVni(new Set([1, 2, 3]), 1)).toBe(4);
    expect(allocateVni(new Set([MAX_VNI - 1, MAX_VNI]), MAX_VNI - 1)).toBeUndefined();
  });
});
