/**
 * host/ bridge and TAP setup against the real kernel. Every test makes its own namespace and
 * passes it as `netns`, so nothing is ever created in the root namespace (checked at the end).
 *
 *   ovt-hd-XXXXXX (one per test)
 *   +-------------------------------------------+
 *   |  ovbr-<VNI>  bridge, overlay MTU, up       |
 *   |     |                                      |
 *   |     +-- ovtap-<VNI>  TAP (ip tuntap add:   |
 *   |     |               persistent, for tests) |
 *   |     +-- veth ends of endpoints             |
 *   +-------------------------------------------+
 *
 * State is read back with plain `ip -j -d link show`, not through the code under test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Netns, cleanupNetns, sh } from '../helpers/netns.js';
import { isOvnError } from '../../src/lib/errors.js';
import { ensureBridge } from '../../src/host/bridge.js';
import { attachTap, ensureNetwork, listManagedNetworks, removeNetwork } from '../../src/host/network-devices.js';
import { deleteLinkIfExists, getLink } from '../../src/host/links.js';
import { ip, isIprouteError } from '../../src/host/iproute2.js';

interface RawLink {
  ifindex: number; ifname: string; mtu: number; flags: string[]; master?: string; inet6_addr_gen_mode?: string;
  linkinfo?: { info_kind?: string };
}

function rawLinks(ns: Netns): RawLink[] {
  return JSON.parse(ns.ip(['-j', '-d', 'link', 'show'])) as RawLink[];
}

function link(ns: Netns, name: string): RawLink | undefined {
  return rawLinks(ns).find((l) => l.ifname === name);
}

/** Name and ifindex of every link: equal snapshots mean nothing was added, removed or recreated. */
function snapshot(ns: Netns): string[] {
  return rawLinks(ns).map((l) => `${l.ifindex}:${l.ifname}`).sort();
}

function ipv6Addrs(ns: Netns, dev: string): unknown[] {
  const out = JSON.parse(ns.ip(['-j', '-6', 'addr', 'show', 'dev', dev])) as Array<{ addr_info?: unknown[] }>;
  return out.flatMap((l) => l.addr_info ?? []).filter((a) => Object.keys(a as object).length > 0);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try { await p; } catch (e) { return e; }
  throw new Error('expected the call to fail');
}

const rootLinksBefore = (JSON.parse(sh(['ip', '-j', 'link', 'show'])) as RawLink[]).map((l) => l.ifname).sort();
let ns: Netns;
const made: Netns[] = [];
function freshNs(): Netns {
  ns = new Netns('hd');
  made.push(ns);
  return ns;
}

beforeAll(() => { if (process.getuid?.() !== 0) throw new Error('netns tests need root'); });
afterEach(() => { for (const n of made.splice(0)) n.destroy(); });
afterAll(() => {
  cleanupNetns();
  const rootLinksAfter = (JSON.parse(sh(['ip', '-j', 'link', 'show'])) as RawLink[]).map((l) => l.ifname).sort();
  expect(rootLinksAfter).toEqual(rootLinksBefore);
});

describe('ensureBridge', () => {
  it('creates the bridge up, with the MTU and no IPv6 address; a second call is a no-op', async () => {
    const { name: netns } = freshNs();
    const first = await ensureBridge(42, { mtu: 1400, netns });
    expect(first).toEqual({ name: 'ovbr-42', created: true, changed: [] });
    const br = link(ns, 'ovbr-42')!;
    expect(br.linkinfo?.info_kind).toBe('bridge');
    expect(br.mtu).toBe(1400);
    expect(br.flags).toContain('UP');
    if (br.inet6_addr_gen_mode !== undefined) expect(br.inet6_addr_gen_mode).toBe('none');
    expect(ipv6Addrs(ns, 'ovbr-42')).toEqual([]);

    const before = snapshot(ns);
    const second = await ensureBridge(42, { mtu: 1400, netns });
    expect(second).toEqual({ name: 'ovbr-42', created: false, changed: [] });
    expect(snapshot(ns)).toEqual(before);
    const again = link(ns, 'ovbr-42')!;
    expect([again.ifindex, again.mtu, again.flags]).toEqual([br.ifindex, br.mtu, br.flags]);
  });

  it('fixes a leftover bridge with another MTU and down, in place, keeping its ports', async () => {
    const { name: netns } = freshNs();
    ns.ip(['link', 'add', 'ovbr-7', 'mtu', '1500', 'type', 'bridge']);
    ns.ip(['tuntap', 'add', 'dev', 'ovtap-7', 'mode', 'tap']);
    ns.ip(['link', 'set', 'ovtap-7', 'master', 'ovbr-7']);
    const ifindex = link(ns, 'ovbr-7')!.ifindex;

    const r = await ensureBridge(7, { mtu: 1450, netns });
    expect(r.created).toBe(false);
    expect(r.changed).toEqual(['mtu', '1450', 'up']);
    const br = link(ns, 'ovbr-7')!;
    expect(br.ifindex).toBe(ifindex);
    expect(br.mtu).toBe(1450);
    expect(br.flags).toContain('UP');
    expect(link(ns, 'ovtap-7')!.master).toBe('ovbr-7');
  });

  it('refuses a non-bridge holding the name, and leaves it alone', async () => {
    const { name: netns } = freshNs();
    ns.ip(['link', 'add', 'ovbr-9', 'type', 'veth', 'peer', 'name', 'other9']);
    const before = snapshot(ns);
    const e = await rejection(ensureBridge(9, { mtu: 1400, netns }));
    expect(isOvnError(e, 'OVN_ERR_DEVICE')).toBe(true);
    expect((e as Error).message).toMatch(/ovbr-9 exists but is a veth device, not a bridge/);
    expect(snapshot(ns)).toEqual(before);
  });

  it('rejects a bad MTU or VNI before touching anything', async () => {
    const { name: netns } = freshNs();
    const before = snapshot(ns);
    expect(isOvnError(await rejection(ensureBridge(1, { mtu: 20, netns })), 'OVN_ERR_INVALID')).toBe(true);
    expect(isOvnError(await rejection(ensureBridge(0, { mtu: 1400, netns })), 'OVN_ERR_INVALID')).toBe(true);
    expect(snapshot(ns)).toEqual(before);
  });
});

describe('attachTap', () => {
  it('makes the TAP a port with the MTU, both up; again is a no-op', async () => {
    const { name: netns } = freshNs();
    await ensureBridge(5, { mtu: 1400, netns });
    ns.ip(['tuntap', 'add', 'dev', 'ovtap-5', 'mode', 'tap']);
    ns.ip(['link', 'set', 'ovbr-5', 'down']);

    const r = await attachTap(5, { mtu: 1400, netns });
    expect(r.name).toBe('ovtap-5');
    expect(r.changed).toEqual(['bridge:up', 'master', 'ovbr-5', 'mtu', '1400', 'up']);
    const tap = link(ns, 'ovtap-5')!;
    expect(tap.master).toBe('ovbr-5');
    expect(tap.mtu).toBe(1400);
    expect(tap.flags).toContain('UP');
    expect(link(ns, 'ovbr-5')!.flags).toContain('UP');
    expect(ipv6Addrs(ns, 'ovtap-5')).toEqual([]);

    const before = snapshot(ns);
    expect((await attachTap(5, { mtu: 1400, netns })).changed).toEqual([]);
    expect(snapshot(ns)).toEqual(before);
  });

  it('says what is missing, and refuses a non-TAP under the TAP name', async () => {
    const { name: netns } = freshNs();
    const noBridge = await rejection(attachTap(5, { mtu: 1400, netns }));
    expect(isOvnError(noBridge, 'OVN_ERR_NOT_FOUND')).toBe(true);
    expect((noBridge as Error).message).toMatch(/bridge ovbr-5 does not exist/);
    await ensureBridge(5, { mtu: 1400, netns });
    const noTap = await rejection(attachTap(5, { mtu: 1400, netns }));
    expect(isOvnError(noTap, 'OVN_ERR_NOT_FOUND')).toBe(true);
    expect((noTap as Error).message).toMatch(/TAP ovtap-5 does not exist/);
    ns.ip(['link', 'add', 'ovtap-5', 'type', 'veth', 'peer', 'name', 'x5']);
    expect(isOvnError(await rejection(attachTap(5, { mtu: 1400, netns })), 'OVN_ERR_DEVICE')).toBe(true);
    expect(link(ns, 'ovtap-5')!.master).toBeUndefined();
  });
});

describe('ensureNetwork', () => {
  it('creates the bridge, calls openTap, attaches; returns the handle', async () => {
    const { name: netns } = freshNs();
    const opened: string[] = [];
    const r = await ensureNetwork(100, {
      mtu: 1450, netns,
      openTap: (name) => { opened.push(name); ns.ip(['tuntap', 'add', 'dev', name, 'mode', 'tap']); return { fd: 99 }; },
    });
    expect(opened).toEqual(['ovtap-100']);
    expect(r).toMatchObject({ vni: 100, bridge: 'ovbr-100', tap: 'ovtap-100', createdBridge: true, tapHandle: { fd: 99 } });
    expect(link(ns, 'ovtap-100')!.master).toBe('ovbr-100');
    expect(link(ns, 'ovtap-100')!.mtu).toBe(1450);
    const again = await ensureNetwork(100, { mtu: 1450, netns });
    expect(again.createdBridge).toBe(false);
    expect(again.changed).toEqual([]);
  });

  it('rolls back the bridge it created and closes the TAP when attaching fails', async () => {
    const { name: netns } = freshNs();
    const before = snapshot(ns);
    const closed: string[] = [];
    // openTap "succeeds" but the device under the TAP name is a veth: attachTap must fail.
    const e = await rejection(ensureNetwork(3, {
      mtu: 1400, netns,
      openTap: (name) => { ns.ip(['link', 'add', name, 'type', 'veth', 'peer', 'name', 'peer3']); return name; },
      closeTap: (name) => { closed.push(name); ns.ip(['link', 'del', name]); },
    }));
    expect(isOvnError(e, 'OVN_ERR_DEVICE')).toBe(true);
    expect(closed).toEqual(['ovtap-3']);
    expect(snapshot(ns)).toEqual(before);
  });

  it('rolls back the bridge it created when openTap throws', async () => {
    const { name: netns } = freshNs();
    const before = snapshot(ns);
    const e = await rejection(ensureNetwork(4, { mtu: 1400, netns, openTap: () => { throw new Error('TUNSETIFF: EBUSY'); } }));
    expect((e as Error).message).toBe('TUNSETIFF: EBUSY');
    expect(snapshot(ns)).toEqual(before);
  });

  it('does not delete a bridge that existed before the call', async () => {
    const { name: netns } = freshNs();
    ns.ip(['link', 'add', 'ovbr-4', 'mtu', '1500', 'type', 'bridge']);
    const before = snapshot(ns);
    await rejection(ensureNetwork(4, { mtu: 1400, netns, openTap: () => { throw new Error('no TAP'); } }));
    expect(snapshot(ns)).toEqual(before);
  });

  it('creates nothing when a non-bridge holds the bridge name', async () => {
    const { name: netns } = freshNs();
    ns.ip(['link', 'add', 'ovbr-8', 'type', 'veth', 'peer', 'name', 'peer8']);
    const before = snapshot(ns);
    let opened = 0;
    const e = await rejection(ensureNetwork(8, { mtu: 1400, netns, openTap: () => { opened++; } }));
    expect(isOvnError(e, 'OVN_ERR_DEVICE')).toBe(true);
    expect(opened).toBe(0);
    expect(snapshot(ns)).toEqual(before);
  });
});

describe('listManagedNetworks and removeNetwork', () => {
  it('lists the VNIs of ovbr-*/ovtap-* devices only', async () => {
    const { name: netns } = freshNs();
    expect(await listManagedNetworks({ netns })).toEqual([]);
    for (const br of ['ovbr-7', 'ovbr-12', 'ovbr-16777215', 'ovbr-007', 'ovbr-0', 'ovbrx-3']) ns.ip(['link', 'add', br, 'type', 'bridge']);
    for (const tap of ['ovtap-7', 'ovtap-9', 'ovtap-01']) ns.ip(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    expect(await listManagedNetworks({ netns })).toEqual([7, 9, 12, 16_777_215]);
  });

  it('removes bridge, leftover TAP and (if asked) endpoint veths; twice is fine', async () => {
    const { name: netns } = freshNs();
    await ensureBridge(6, { mtu: 1400, netns });
    ns.ip(['tuntap', 'add', 'dev', 'ovtap-6', 'mode', 'tap']);
    await attachTap(6, { mtu: 1400, netns });
    ns.ip(['link', 'add', 'ovvendpoint6', 'type', 'veth', 'peer', 'name', 'ovpendpoint6']);
    ns.ip(['link', 'set', 'ovvendpoint6', 'master', 'ovbr-6']);
    ns.ip(['link', 'add', 'ovbr-61', 'type', 'bridge']);

    expect(await removeNetwork(6, { netns, endpoints: true })).toEqual(['ovvendpoint6', 'ovtap-6', 'ovbr-6']);
    const left = rawLinks(ns).map((l) => l.ifname).sort();
    expect(left).toEqual(['lo', 'ovbr-61']);
    expect(await removeNetwork(6, { netns, endpoints: true })).toEqual([]);
    expect(await listManagedNetworks({ netns })).toEqual([61]);
  });

  it('leaves endpoint veths unless asked, and refuses a wrong-kind device under our names', async () => {
    const { name: netns } = freshNs();
    await ensureBridge(2, { mtu: 1400, netns });
    ns.ip(['link', 'add', 'ep2', 'type', 'veth', 'peer', 'name', 'ep2p']);
    ns.ip(['link', 'set', 'ep2', 'master', 'ovbr-2']);
    expect(await removeNetwork(2, { netns })).toEqual(['ovbr-2']);
    expect(link(ns, 'ep2')).toBeDefined();

    ns.ip(['link', 'add', 'ovtap-2', 'type', 'veth', 'peer', 'name', 'x2']);
    expect(isOvnError(await rejection(removeNetwork(2, { netns })), 'OVN_ERR_DEVICE')).toBe(true);
    expect(link(ns, 'ovtap-2')).toBeDefined();
  });
});

describe('links and errors', () => {
  it('deleteLinkIfExists deletes once, then reports false', async () => {
    const { name: netns } = freshNs();
    ns.ip(['link', 'add', 'gone1', 'type', 'bridge']);
    expect(await deleteLinkIfExists('gone1', { netns })).toBe(true);
    expect(await deleteLinkIfExists('gone1', { netns })).toBe(false);
    expect(await getLink('gone1', { netns })).toBeUndefined();
  });

  it('reports a missing namespace and a kernel refusal as OVN_ERR_IPROUTE with argv and stderr', async () => {
    const { name: netns } = freshNs();
    const missing = await rejection(ip(['link', 'show'], { netns: `${netns}-nope` }));
    expect(isIprouteError(missing, 'netns-missing')).toBe(true);
    const exists = await rejection((async () => {
      ns.ip(['link', 'add', 'dup1', 'type', 'bridge']);
      await ip(['link', 'add', 'dup1', 'type', 'bridge'], { netns });
    })());
    expect(isIprouteError(exists, 'exists')).toBe(true);
    expect((exists as { code: string }).code).toBe('OVN_ERR_IPROUTE');
    expect((exists as { argv: string[] }).argv).toEqual(['ip', '-netns', netns, 'link', 'add', 'dup1', 'type', 'bridge']);
    expect((exists as { stderr: string }).stderr).toMatch(/File exists/);
  });
});
