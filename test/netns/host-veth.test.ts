/**
 * Endpoint veth pairs against the real kernel. The "host" is a namespace too, so nothing is
 * created in the root namespace (checked at the end).
 *
 *   ovt-vh-XXXXXX ("host")                    ovt-ve-XXXXXX (endpoint; or a pid inside it)
 *   +-----------------------------+           +-------------------------------------+
 *   |  ovbr-<VNI> (bridge)         |           |  eth0  02:42:0a:4d:00:05             |
 *   |     +-- ovv<hash12> ==================veth====  10.77.0.5/24, mtu 1400          |
 *   +-----------------------------+           +-------------------------------------+
 *
 * State is read back with plain `ip -j`, not through the code under test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { Netns, cleanupNetns, sh, waitFor } from '../helpers/netns.js';
import { isOvnError } from '../../src/lib/errors.js';
import { ensureBridge } from '../../src/host/bridge.js';
import { removeNetwork } from '../../src/host/network-devices.js';
import { endpointVethNames } from '../../src/host/names.js';
import { createEndpointVeth, removeEndpointVeth, type EndpointVethSpec } from '../../src/host/veth.js';

interface RawLink {
  ifindex: number; ifname: string; mtu: number; flags: string[]; master?: string; address?: string; link_index?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

const rawLinks = (ns: Netns): RawLink[] => JSON.parse(ns.ip(['-j', '-d', 'link', 'show'])) as RawLink[];
const link = (ns: Netns, name: string): RawLink | undefined => rawLinks(ns).find((l) => l.ifname === name);
const names = (ns: Netns): string[] => rawLinks(ns).map((l) => l.ifname).sort();
function addrs(ns: Netns, dev: string): string[] {
  const out = JSON.parse(ns.ip(['-j', 'addr', 'show', 'dev', dev])) as RawLink[];
  return (out[0].addr_info ?? []).filter((a) => a.local && !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  throw new Error('expected the call to fail');
}

const rootLinksBefore = (JSON.parse(sh(['ip', '-j', 'link', 'show'])) as RawLink[]).map((l) => l.ifname).sort();
const made: Netns[] = [];
let host: Netns;
let ep: Netns;
const VNI = 77;

function spec(over: Partial<EndpointVethSpec> = {}): EndpointVethSpec {
  const n = endpointVethNames(VNI, 'endpoint-1');
  return {
    vni: VNI, hostIf: n.hostIf, peerIf: n.peerIf, targetNetns: ep.name, ifname: 'eth0',
    mac: '02:42:0a:4d:00:05', address: '10.77.0.5/24', mtu: 1400, netns: host.name, ...over,
  };
}

beforeAll(() => { if (process.getuid?.() !== 0) throw new Error('netns tests need root'); });

async function setup(): Promise<void> {
  host = new Netns('vh');
  ep = new Netns('ve');
  made.push(host, ep);
  await ensureBridge(VNI, { mtu: 1400, netns: host.name });
}

afterEach(() => { for (const n of made.splice(0)) n.destroy(); });
afterAll(() => {
  cleanupNetns();
  expect((JSON.parse(sh(['ip', '-j', 'link', 'show'])) as RawLink[]).map((l) => l.ifname).sort()).toEqual(rootLinksBefore);
});

function expectEndpoint(s: EndpointVethSpec, target: Netns = ep): void {
  const h = link(host, s.hostIf)!;
  const p = link(target, s.ifname)!;
  expect(h.linkinfo?.info_kind).toBe('veth');
  expect(h.master).toBe(`ovbr-${s.vni}`);
  expect(h.mtu).toBe(s.mtu);
  expect(h.flags).toContain('UP');
  expect(p.linkinfo?.info_kind).toBe('veth');
  expect(p.address).toBe(s.mac);
  expect(p.mtu).toBe(s.mtu);
  expect(p.flags).toContain('UP');
  expect(addrs(target, s.ifname)).toEqual([s.address]);
  // The two ends point at each other.
  expect(h.link_index).toBe(p.ifindex);
  expect(p.link_index).toBe(h.ifindex);
  // No temporary name left anywhere.
  expect(names(host)).not.toContain(s.peerIf);
  expect(names(target)).not.toContain(s.peerIf);
}

describe('createEndpointVeth', () => {
  it('puts eth0 with MAC, address and MTU into the endpoint namespace; again is a no-op', async () => {
    await setup();
    const s = spec();
    expect(await createEndpointVeth(s)).toEqual({ hostIf: s.hostIf, ifname: 'eth0', created: true });
    expectEndpoint(s);
    const hostIndex = link(host, s.hostIf)!.ifindex;
    expect(await createEndpointVeth(s)).toEqual({ hostIf: s.hostIf, ifname: 'eth0', created: false });
    expectEndpoint(s);
    expect(link(host, s.hostIf)!.ifindex).toBe(hostIndex);
    expect(names(host)).toEqual(['lo', 'ovbr-77', s.hostIf].sort());
  });

  it('carries traffic across the bridge: two endpoints ping each other', async () => {
    await setup();
    const ep2 = new Netns('ve');
    made.push(ep2);
    const n2 = endpointVethNames(VNI, 'endpoint-2');
    await createEndpointVeth(spec());
    await createEndpointVeth(spec({ ...n2, targetNetns: ep2.name, mac: '02:42:0a:4d:00:06', address: '10.77.0.6/24' }));
    await waitFor(() => { ep.exec(['ping', '-c', '1', '-W', '1', '10.77.0.6']); return true; }, 10_000, 'ping over the bridge');
  });

  it('converges a pair whose settings drifted, in place', async () => {
    await setup();
    const s = spec();
    await createEndpointVeth(s);
    const before = [link(host, s.hostIf)!.ifindex, link(ep, 'eth0')!.ifindex];
    ep.ip(['link', 'set', 'eth0', 'mtu', '1500', 'address', '02:00:00:00:00:99']);
    ep.ip(['addr', 'flush', 'dev', 'eth0']);
    host.ip(['link', 'set', s.hostIf, 'nomaster', 'down']);
    expect((await createEndpointVeth(s)).created).toBe(false);
    expectEndpoint(s);
    expect([link(host, s.hostIf)!.ifindex, link(ep, 'eth0')!.ifindex]).toEqual(before);
  });

  it('remakes a half-made pair (peer still under its temporary name)', async () => {
    await setup();
    const s = spec();
    host.ip(['link', 'add', s.hostIf, 'type', 'veth', 'peer', 'name', s.peerIf, 'netns', ep.name]);
    expect((await createEndpointVeth(s)).created).toBe(true);
    expectEndpoint(s);
  });

  it('reaches the endpoint namespace through a pid', async () => {
    await setup();
    const child = ep.spawn(['sleep', '60']);
    const pid = child.pid!;
    // `ip netns exec` switches namespace before exec'ing sleep: wait until the pid is inside.
    const want = statSync(`/var/run/netns/${ep.name}`).ino;
    await waitFor(() => statSync(`/proc/${pid}/ns/net`).ino === want, 5000, 'sleep inside the namespace');
    const s = spec({ targetNetns: pid });
    expect((await createEndpointVeth(s)).created).toBe(true);
    expectEndpoint(s);
    expect((await createEndpointVeth(s)).created).toBe(false);
    child.kill('SIGKILL');
  });

  it('refuses an ifname the endpoint already has, creating nothing', async () => {
    await setup();
    ep.ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0']);
    const hostBefore = names(host);
    const epBefore = names(ep);
    const e = await rejection(createEndpointVeth(spec()));
    expect(isOvnError(e, 'OVN_ERR_EXISTS')).toBe(true);
    expect(names(host)).toEqual(hostBefore);
    expect(names(ep)).toEqual(epBefore);
  });

  it('rolls the pair back when a step after its creation fails', async () => {
    await setup();
    // IPv6 off in the endpoint: the pair is made and renamed, then adding the address fails.
    ep.exec(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    ep.exec(['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    const hostBefore = names(host);
    const epBefore = names(ep);
    const e = await rejection(createEndpointVeth(spec({ address: 'fd77::5/64' })));
    expect(isOvnError(e)).toBe(true);
    expect(e.message).toMatch(/addr replace fd77::5\/64 dev eth0/);
    expect(names(host)).toEqual(hostBefore);
    expect(names(ep)).toEqual(epBefore);
  });

  it('refuses bad input and a missing bridge before touching anything', async () => {
    await setup();
    const before = [names(host), names(ep)];
    for (const bad of [{ mac: '01:00:5e:00:00:01' }, { mac: 'zz' }, { address: '10.77.0.5' }, { address: '10.77.0.5/33' },
      { ifname: 'way-too-long-name' }, { mtu: 10 }, { targetNetns: '../x' }, { targetNetns: 0 }]) {
      expect(isOvnError(await rejection(createEndpointVeth(spec(bad))), 'OVN_ERR_INVALID'), JSON.stringify(bad)).toBe(true);
    }
    expect(isOvnError(await rejection(createEndpointVeth(spec({ vni: 78 }))), 'OVN_ERR_NOT_FOUND')).toBe(true);
    expect([names(host), names(ep)]).toEqual(before);
  });
});

describe('removeEndpointVeth and removeNetwork', () => {
  it('removes the pair; twice is fine; refuses a non-veth', async () => {
    await setup();
    const s = spec();
    await createEndpointVeth(s);
    expect(await removeEndpointVeth({ hostIf: s.hostIf, netns: host.name })).toBe(true);
    expect(names(host)).toEqual(['lo', 'ovbr-77']);
    expect(names(ep)).toEqual(['lo']);
    expect(await removeEndpointVeth({ hostIf: s.hostIf, netns: host.name })).toBe(false);
    expect(isOvnError(await rejection(removeEndpointVeth({ hostIf: 'ovbr-77', netns: host.name })), 'OVN_ERR_DEVICE')).toBe(true);
  });

  it('removeNetwork with endpoints takes every endpoint pair along', async () => {
    await setup();
    const ep2 = new Netns('ve');
    made.push(ep2);
    const a = spec();
    const b = spec({ ...endpointVethNames(VNI, 'endpoint-2'), targetNetns: ep2.name, mac: '02:42:0a:4d:00:06', address: '10.77.0.6/24' });
    await createEndpointVeth(a);
    await createEndpointVeth(b);
    const removed = await removeNetwork(VNI, { netns: host.name, endpoints: true });
    expect(removed.sort()).toEqual([a.hostIf, b.hostIf, 'ovbr-77'].sort());
    expect(names(host)).toEqual(['lo']);
    expect(names(ep)).toEqual(['lo']);
    expect(names(ep2)).toEqual(['lo']);
  });
});
