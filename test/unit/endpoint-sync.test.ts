/**
 * The endpoint sync loop's store rules, with an in-memory store, a hand-fed view and a fake
 * clock: endpoints of a host gone for good are reclaimed only after the grace period, and not
 * if it comes back; this host's documents without a device here are released; nothing is
 * deleted while the store is unhealthy or the view is empty.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/lib/log.js';
import { KeyLayout } from '../../src/control/keys.js';
import { encodeEndpoint, type EndpointDoc, type HostDoc, type NetworkDoc } from '../../src/control/documents.js';
import { EndpointService } from '../../src/daemon/endpoints.js';
import { HostsFiles } from '../../src/daemon/hosts-file.js';
import { MemoryStore } from '../helpers/memory-store.js';

const keys = new KeyLayout('t/');
const T = '2025-01-02T03:04:05.000Z';
const GRACE = 10_000;

function doc(ip: string, host: string): EndpointDoc {
  return { version: 1, network: 'demo', ip, mac: `02:42:0a:4d:00:0${ip.slice(-1)}`, host, createdAt: T };
}

function hostDoc(id: string): HostDoc {
  return { version: 1, id, address: '192.0.2.1', port: 4789, agentVersion: '0', startedAt: T };
}

describe('EndpointSync', () => {
  let dir: string;
  let store: MemoryStore;
  let healthy: boolean;
  let svc: EndpointService;
  let now: number;
  const view = { networks: new Map<string, NetworkDoc>(), hosts: new Map<string, HostDoc>(), endpoints: new Map<string, EndpointDoc>(), generation: 1 };

  async function publish(d: EndpointDoc): Promise<void> {
    await store.put(keys.endpoint(d.network, d.ip), encodeEndpoint(d));
    view.endpoints.set(keys.endpoint(d.network, d.ip), d);
  }

  const ips = () => store.dump(keys.allEndpointsPrefix).map((e) => e.key.split('/').pop());

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ovnetd-sync-'));
    store = new MemoryStore();
    healthy = true;
    now = 0;
    view.hosts.clear();
    view.endpoints.clear();
    view.hosts.set('me', hostDoc('me'));
    view.hosts.set('alive', hostDoc('alive'));
    svc = new EndpointService({
      hostId: 'me', stateDir: dir, log: silentLogger, keys, kv: store, clustered: true, localNetworks: () => [], view,
      storeHealthy: () => healthy, graceMs: GRACE, hosts: new HostsFiles(join(dir, 'netns')),
    });
    svc.sync.now = () => now;
    await publish(doc('10.77.0.2', 'alive'));
    await publish(doc('10.77.0.3', 'gone'));
    await publish(doc('10.77.0.4', 'gone'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reclaims a gone host\'s endpoints once the grace period has passed, never a live host\'s', async () => {
    await svc.sync.run(false);
    expect(ips()).toEqual(['10.77.0.2', '10.77.0.3', '10.77.0.4']);
    now = GRACE - 1;
    await svc.sync.run(false);
    expect(ips()).toEqual(['10.77.0.2', '10.77.0.3', '10.77.0.4']);
    now = GRACE;
    await svc.sync.run(false);
    expect(ips()).toEqual(['10.77.0.2']);
  });

  it('a host that comes back within the grace keeps its endpoints, and its clock starts afresh next time', async () => {
    await svc.sync.run(false);
    now = GRACE / 2;
    view.hosts.set('gone', hostDoc('gone'));
    await svc.sync.run(false);
    view.hosts.delete('gone');
    now = GRACE + 1;
    await svc.sync.run(false);
    expect(ips()).toHaveLength(3);
    now = 2 * GRACE + 1;
    await svc.sync.run(false);
    expect(ips()).toEqual(['10.77.0.2']);
  });

  it('does nothing while the store is unhealthy or the view was never filled', async () => {
    healthy = false;
    await svc.sync.run(false);
    now = 10 * GRACE;
    await svc.sync.run(false);
    expect(ips()).toHaveLength(3);
    healthy = true;
    view.generation = 0;
    await svc.sync.run(false);
    expect(ips()).toHaveLength(3);
    view.generation = 1;
  });

  it('releases this host\'s documents that no endpoint here backs (a previous life), from the view and on attach', async () => {
    await publish(doc('10.77.0.5', 'me'));
    await svc.sync.run(false);
    expect(ips()).not.toContain('10.77.0.5');
    await store.put(keys.endpoint('demo', '10.77.0.6'), encodeEndpoint(doc('10.77.0.6', 'me')));
    await svc.sync.releaseOwnStale('demo');
    expect(ips()).not.toContain('10.77.0.6');
    expect(ips()).toContain('10.77.0.2');
  });

  it('attach refuses an unknown network, and a missing namespace, before touching the store', async () => {
    const before = store.dump();
    await expect(svc.attach({ network: 'nosuch', netns: 'x' })).rejects.toMatchObject({ code: 'OVN_ERR_NOT_FOUND' });
    await expect(svc.attach({ network: 'demo' })).rejects.toMatchObject({ code: 'OVN_ERR_USAGE' });
    await expect(svc.attach({ network: 'demo', netns: 'x', pid: 3 })).rejects.toMatchObject({ code: 'OVN_ERR_USAGE' });
    await expect(svc.attach({ network: 'demo', pid: 'abc' })).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
    await expect(svc.attach({ network: 'demo', netns: '../etc' })).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
    await expect(svc.attach({ network: 'demo', netns: 'x', ifname: 'a/b' })).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
    await expect(svc.attach({ network: 'demo', netns: 'x', name: 'no spaces' })).rejects.toMatchObject({ code: 'OVN_ERR_INVALID' });
    expect(store.dump()).toEqual(before);
  });
});

describe('EndpointSync: an endpoint of ours missing from the store', () => {
  it('is published again when its network exists and its address is free', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovnetd-sync-'));
    try {
      const store = new MemoryStore();
      const view = { networks: new Map<string, NetworkDoc>(), hosts: new Map<string, HostDoc>(), endpoints: new Map<string, EndpointDoc>(), generation: 1 };
      view.networks.set('demo', { version: 1, name: 'demo', vni: 42, subnet: '10.77.0.0/24', createdAt: T });
      const svc = new EndpointService({
        hostId: 'me', stateDir: dir, log: silentLogger, keys, kv: store, clustered: true, localNetworks: () => [], view,
        storeHealthy: () => true, graceMs: GRACE, hosts: new HostsFiles(join(dir, 'netns')),
      });
      svc.records.add({ network: 'demo', vni: 42, ip: '10.77.0.9', prefix: 24, mac: '02:42:0a:4d:00:09', name: 'n9', target: { netns: 'x' }, ifname: 'eth0', hostIf: 'ovv000000000000', attachedAt: T });
      await svc.sync.run(false);
      const e = await store.get(keys.endpoint('demo', '10.77.0.9'));
      expect(JSON.parse(e!.value)).toMatchObject({ ip: '10.77.0.9', mac: '02:42:0a:4d:00:09', host: 'me', name: 'n9' });
      expect(svc.records.all()).toHaveLength(1);
      // Not yet in the view: it is given time, not published twice nor dropped.
      await svc.sync.run(false);
      expect(svc.records.all()).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
