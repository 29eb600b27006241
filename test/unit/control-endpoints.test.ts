/**
 * EndpointRegistry over the in-memory store (whose calls interleave at every await, as a real
 * server's would): concurrent claims never share an address, explicit addresses and names are
 * checked, refused claims write nothing, release only deletes what it is told to. FileKv: the
 * same over a file (static mode).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../helpers/memory-store.js';
import { KeyLayout } from '../../src/control/keys.js';
import { EndpointRegistry, FileKv, checkEndpointName } from '../../src/control/endpoints.js';

const keys = new KeyLayout('t/');
const NET = { network: 'demo', subnet: '10.77.0.0/24' };

function setup(kv = new MemoryStore()) {
  return { kv, reg: new EndpointRegistry(kv, keys) };
}

describe('EndpointRegistry.claim', () => {
  it('hands out the lowest free address, with the derived MAC, as a valid document at its key', async () => {
    const { kv, reg } = setup();
    const a = await reg.claim({ ...NET, host: 'h1', name: 'web' });
    expect(a.doc).toMatchObject({ version: 1, network: 'demo', ip: '10.77.0.2', mac: '02:42:0a:4d:00:02', host: 'h1', name: 'web' });
    expect(a.key).toBe('t/v1/endpoints/demo/10.77.0.2');
    expect((await kv.get(a.key))!.modifyIndex).toBe(a.modifyIndex);
    const b = await reg.claim({ ...NET, host: 'h2' });
    expect(b.doc.ip).toBe('10.77.0.3');
    expect(b.doc.name).toBeUndefined();
  });

  it('60 concurrent claims from three "hosts" get 60 distinct addresses', async () => {
    const { reg } = setup();
    const got = await Promise.all(Array.from({ length: 60 }, (_, i) => reg.claim({ ...NET, host: `h${i % 3}` })));
    const ips = got.map((g) => g.doc.ip);
    expect(new Set(ips).size).toBe(60);
    expect((await reg.list('demo')).length).toBe(60);
  });

  it('concurrent claims through separate registries on one store also never collide', async () => {
    const kv = new MemoryStore();
    const regs = [0, 1, 2].map(() => new EndpointRegistry(kv, keys));
    const got = await Promise.all(Array.from({ length: 30 }, (_, i) => regs[i % 3].claim({ ...NET, host: `h${i % 3}` })));
    expect(new Set(got.map((g) => g.doc.ip)).size).toBe(30);
  });

  it('an explicit address is taken exactly, refused when in use, reserved or outside; refusals write nothing', async () => {
    const { kv, reg } = setup();
    expect((await reg.claim({ ...NET, host: 'h1', ip: '10.77.0.100' })).doc.ip).toBe('10.77.0.100');
    const before = kv.dump();
    await expect(reg.claim({ ...NET, host: 'h2', ip: '10.77.0.100' })).rejects.toMatchObject({ code: 'OVN_ERR_EXISTS', message: expect.stringMatching(/10\.77\.0\.100 is already in use in network "demo" by an endpoint on host h1/) });
    await expect(reg.claim({ ...NET, host: 'h2', ip: '10.77.1.1' })).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
    await expect(reg.claim({ ...NET, host: 'h2', ip: '10.77.0.1' })).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
    await expect(reg.claim({ ...NET, host: 'h2', ip: 'bogus' })).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
    expect(kv.dump()).toEqual(before);
    // Two concurrent claims of the same explicit address: exactly one wins.
    const both = await Promise.allSettled([reg.claim({ ...NET, host: 'a', ip: '10.77.0.7' }), reg.claim({ ...NET, host: 'b', ip: '10.77.0.7' })]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(both.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'OVN_ERR_EXISTS' } });
  });

  it('a corrupted entry still occupies its address; names are unique per network', async () => {
    const { kv, reg } = setup();
    await kv.put('t/v1/endpoints/demo/10.77.0.2', '{garbage');
    expect((await reg.claim({ ...NET, host: 'h1', name: 'web' })).doc.ip).toBe('10.77.0.3');
    await expect(reg.claim({ ...NET, host: 'h1', ip: '10.77.0.2' })).rejects.toMatchObject({ code: 'OVN_ERR_EXISTS', message: expect.stringMatching(/unreadable entry/) });
    await expect(reg.claim({ ...NET, host: 'h2', name: 'web' })).rejects.toMatchObject({ code: 'OVN_ERR_EXISTS', message: expect.stringMatching(/name "web" is already used in network "demo" \(10\.77\.0\.3 on host h1\)/) });
    expect((await reg.claim({ network: 'other', subnet: '10.78.0.0/24', host: 'h2', name: 'web' })).doc.ip).toBe('10.78.0.2');
    expect(() => checkEndpointName('bad name')).toThrow(expect.objectContaining({ code: 'OVN_ERR_INVALID' }));
    expect(checkEndpointName('web-1.blue')).toBe('web-1.blue');
  });

  it('says OVN_ERR_CAPACITY when the subnet is full', async () => {
    const { reg } = setup();
    const small = { network: 'tiny', subnet: '10.9.0.0/29' };
    for (let i = 0; i < 5; i++) await reg.claim({ ...small, host: 'h' });
    await expect(reg.claim({ ...small, host: 'h' })).rejects.toMatchObject({ code: 'OVN_ERR_CAPACITY' });
  });

  it('IPv6: an explicit address whose derived MAC is taken is refused', async () => {
    const { reg } = setup();
    const v6 = { network: 'six', subnet: 'fd77::/64' };
    expect((await reg.claim({ ...v6, host: 'h' })).doc).toMatchObject({ ip: 'fd77::2', mac: '06:42:00:00:00:02' });
    await expect(reg.claim({ ...v6, host: 'h', ip: 'fd77::1:0:0:2' })).rejects.toMatchObject({ code: 'OVN_ERR_EXISTS', message: expect.stringMatching(/MAC 06:42:00:00:00:02/) });
  });
});

describe('EndpointRegistry.release', () => {
  it('deletes only the expected owner or version', async () => {
    const { kv, reg } = setup();
    const a = await reg.claim({ ...NET, host: 'h1' });
    expect(await reg.release('demo', a.doc.ip, { host: 'h2' })).toBe(false);
    expect(await reg.release('demo', a.doc.ip, { modifyIndex: a.modifyIndex + 1000 })).toBe(false);
    expect(await kv.get(a.key)).toBeDefined();
    expect(await reg.release('demo', a.doc.ip, { host: 'h1', modifyIndex: a.modifyIndex })).toBe(true);
    expect(await kv.get(a.key)).toBeUndefined();
    expect(await reg.release('demo', a.doc.ip)).toBe(false);
    expect((await reg.claim({ ...NET, host: 'h3' })).doc.ip).toBe(a.doc.ip);
  });
});

describe('FileKv (static mode)', () => {
  it('claims and releases like a store, and survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovnetd-filekv-'));
    try {
      const file = join(dir, 'eps.json');
      const reg = new EndpointRegistry(new FileKv(file), keys);
      const a = await reg.claim({ ...NET, host: 'h', ip: '10.77.0.9', name: 'x' });
      await reg.claim({ ...NET, host: 'h', ip: '10.77.0.10' });
      const again = new EndpointRegistry(new FileKv(file), keys);
      expect((await again.list('demo')).map((e) => e.doc.ip)).toEqual(['10.77.0.9', '10.77.0.10']);
      await expect(again.claim({ ...NET, host: 'h', ip: '10.77.0.9' })).rejects.toMatchObject({ code: 'OVN_ERR_EXISTS' });
      expect(await again.release('demo', a.doc.ip, { host: 'h' })).toBe(true);
      expect((await new EndpointRegistry(new FileKv(file), keys).list()).map((e) => e.doc.ip)).toEqual(['10.77.0.10']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
