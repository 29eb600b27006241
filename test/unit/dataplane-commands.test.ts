/** Dataplane.apply: validation before mutation, snapshot diffing and round trips. */
import { describe, it, expect } from 'vitest';
import type { DataplaneCommand, PeerSpec } from '../../src/dataplane/commands.js';
import { Dataplane } from '../../src/dataplane/dataplane.js';
import { fakeHost, type FakeHost } from '../fakes/fake-host.js';
import { ethFrame, vxlanDatagram } from '../fakes/frames.js';

type Snapshot = Extract<DataplaneCommand, { kind: 'snapshot' }>;
const X = '02:00:00:00:0b:01';

const base = (): Snapshot => ({
  kind: 'snapshot',
  networks: [{ vni: 100, name: 'blue', tapName: 'ovtap-100' }, { vni: 200, name: 'red', tapName: 'ovtap-200' }],
  peers: [
    { id: 'b', address: '10.0.0.2', port: 4789, vnis: [100, 200] },
    { id: 'c', address: '2001:db8::3', port: 4790, vnis: [100] },
  ],
  pinned: [{ vni: 100, mac: '02:00:00:00:0c:01', peerId: 'c' }],
});

/** Everything observable about a host's state. */
function state(h: FakeHost) {
  return {
    snapshot: h.dp.snapshot(),
    fdb: h.dp.fdbDump(),
    underlayPeers: [...h.underlay.peers()],
    openTaps: h.taps.opened.filter((t) => !t.closed).map((t) => t.name),
  };
}

function expectRefused(h: FakeHost, cmd: unknown, code: string): void {
  const before = state(h);
  expect(() => h.dp.apply(cmd as DataplaneCommand)).toThrow(expect.objectContaining({ name: 'OvnError', code }));
  expect(state(h)).toEqual(before);
}

function learned(h: FakeHost, from: string, vni = 100, mac = X): void {
  h.underlay.receive([{ from, bytes: vxlanDatagram(vni, ethFrame({ dst: '02:00:00:00:00:01', src: mac })) }]);
}

describe('Dataplane.apply before the first snapshot', () => {
  it('refuses deltas and unknown commands, changing nothing', () => {
    const h = fakeHost('10.0.0.1');
    expectRefused(h, { kind: 'network-add', network: { vni: 1, name: 'n', tapName: 't' } }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'peer-remove', id: 'x' }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'reboot' }, 'OVN_ERR_INVALID');
    expectRefused(h, null, 'OVN_ERR_INVALID');
    expectRefused(h, 'snapshot', 'OVN_ERR_INVALID');
    expect(h.taps.opened).toEqual([]);
    h.dp.apply(base());
    expect(h.dp.snapshot().networks).toHaveLength(2);
  });

  it('a refused first snapshot leaves the data plane waiting for a valid one', () => {
    const h = fakeHost('10.0.0.1');
    expectRefused(h, { ...base(), peers: 'none' }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'network-remove', vni: 100 }, 'OVN_ERR_INVALID');
  });
});

describe('snapshot validation', () => {
  const bad: [string, (s: Snapshot) => unknown, string?][] = [
    ['VNI out of range', (s) => { s.networks[0].vni = 1 << 24; }],
    ['VNI not an integer', (s) => { (s.networks[0] as { vni: unknown }).vni = '100'; }],
    ['duplicate VNI', (s) => { s.networks[1].vni = 100; }],
    ['duplicate TAP', (s) => { s.networks[1].tapName = 'ovtap-100'; }],
    ['TAP name too long', (s) => { s.networks[1].tapName = 'a-very-long-tap-name'; }],
    ['empty name', (s) => { s.networks[0].name = ''; }],
    ['network not an object', (s) => { (s.networks as unknown[])[0] = 5; }],
    ['bad address', (s) => { s.peers[0].address = '10.0.0.300'; }],
    ['unspecified address', (s) => { s.peers[0].address = '0.0.0.0'; }],
    ['duplicate address (mapped form)', (s) => { s.peers[1].address = '::ffff:10.0.0.2'; }],
    ['duplicate id', (s) => { s.peers[1].id = 'b'; }],
    ['port 0', (s) => { s.peers[0].port = 0; }],
    ['port too big', (s) => { s.peers[0].port = 65536; }],
    ['vnis not an array', (s) => { (s.peers[0] as { vnis: unknown }).vnis = 100; }],
    ['bad VNI in vnis', (s) => { s.peers[0].vnis = [-1]; }],
    ['pin: bad MAC', (s) => { s.pinned[0].mac = 'zz'; }],
    ['pin: multicast MAC', (s) => { s.pinned[0].mac = '01:00:5e:00:00:01'; }],
    ['pin: unknown peer', (s) => { s.pinned[0].peerId = 'nobody'; }],
    ['pin: peer not a member', (s) => { s.pinned[0].vni = 200; }],
    ['pin: unknown network', (s) => { s.pinned[0].vni = 300; s.peers[1].vnis.push(300); }],
    ['pin: duplicate', (s) => { s.pinned.push({ ...s.pinned[0], mac: s.pinned[0].mac.toUpperCase() }); }],
    ['missing pinned', (s) => { delete (s as Partial<Snapshot>).pinned; }],
  ];

  it.each(bad)('%s: refused, nothing changes', (_, mutate) => {
    const h = fakeHost('10.0.0.1');
    h.dp.apply(base());
    h.dp.start();
    learned(h, '10.0.0.2');
    const s = base();
    mutate(s);
    expectRefused(h, s, 'OVN_ERR_INVALID');
  });

  it('limits: more networks, peers or pins than configured is OVN_ERR_CAPACITY', () => {
    const h = fakeHost('10.0.0.1', { maxNetworks: 1, maxPeers: 1, fdbCapacity: 1 });
    expectRefused(h, base(), 'OVN_ERR_CAPACITY');
    const one = base();
    one.networks.pop();
    one.peers = [{ ...one.peers[1] }];
    one.pinned.push({ vni: 100, mac: '02:00:00:00:0c:02', peerId: 'c' });
    expectRefused(h, one, 'OVN_ERR_CAPACITY');
    one.pinned.pop();
    h.dp.apply(one);
  });

  it('a TAP that fails to open aborts the snapshot and closes the TAPs it opened', () => {
    const h = fakeHost('10.0.0.1');
    h.taps.failFor.add(200);
    expect(() => h.dp.apply(base())).toThrow();
    expect(h.taps.opened.map((t) => [t.name, t.closed])).toEqual([['ovtap-100', true]]);
    expect(h.dp.snapshot()).toEqual({ kind: 'snapshot', networks: [], peers: [], pinned: [] });
    expect(h.underlay.peers().size).toBe(0);
  });
});

describe('delta validation on a running data plane', () => {
  function running(o: Parameters<typeof fakeHost>[1] = {}): FakeHost {
    const h = fakeHost('10.0.0.1', o);
    h.dp.apply(base());
    h.dp.start();
    learned(h, '10.0.0.2');
    return h;
  }

  it('refuses bad deltas with stable codes and changes nothing', () => {
    const h = running({ maxPeers: 2, maxNetworks: 2 });
    expectRefused(h, { kind: 'network-add', network: { vni: 100, name: 'other', tapName: 'ovtap-100' } }, 'OVN_ERR_EXISTS');
    expectRefused(h, { kind: 'network-add', network: { vni: 300, name: 'x', tapName: 'ovtap-100' } }, 'OVN_ERR_EXISTS');
    expectRefused(h, { kind: 'network-add', network: { vni: 300, name: 'x', tapName: 'ovtap-300' } }, 'OVN_ERR_CAPACITY');
    expectRefused(h, { kind: 'network-add', network: { vni: 300, name: 'x' } }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'network-remove', vni: 300 }, 'OVN_ERR_NOT_FOUND');
    expectRefused(h, { kind: 'network-remove', vni: 'x' }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'peer-set', peer: { id: 'd', address: '10.0.0.2', port: 4789, vnis: [] } }, 'OVN_ERR_EXISTS');
    expectRefused(h, { kind: 'peer-set', peer: { id: 'd', address: '10.0.0.4', port: 4789, vnis: [] } }, 'OVN_ERR_CAPACITY');
    expectRefused(h, { kind: 'peer-set', peer: { id: 'b', address: '10.0.0.2', port: 4789, vnis: [100.5] } }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'peer-remove', id: 'zz' }, 'OVN_ERR_NOT_FOUND');
    expectRefused(h, { kind: 'peer-remove', id: 7 }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'fdb-pin', entry: { vni: 100, mac: X, peerId: 'zz' } }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'fdb-pin', entry: { vni: 200, mac: X, peerId: 'c' } }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'fdb-pin', entry: { vni: 300, mac: X, peerId: 'c' } }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'fdb-unpin', vni: 100, mac: 'nope' }, 'OVN_ERR_INVALID');
    expectRefused(h, { kind: 'flush' }, 'OVN_ERR_INVALID');
  });

  it('fdb-pin beyond capacity of pinned entries is OVN_ERR_CAPACITY; replacing a pin is fine', () => {
    const h = running({ fdbCapacity: 1 });
    expectRefused(h, { kind: 'fdb-pin', entry: { vni: 100, mac: X, peerId: 'b' } }, 'OVN_ERR_CAPACITY');
    h.dp.apply({ kind: 'fdb-pin', entry: { vni: 100, mac: '02:00:00:00:0c:01', peerId: 'b' } });
    expect(h.dp.fdbDump()).toMatchObject([{ peerId: 'b', pinned: true }]);
  });

  it('pinning at capacity evicts a learned entry and counts it', () => {
    const h = running({ fdbCapacity: 2 });
    expect(h.dp.counters().fdbSize).toBe(2);
    h.dp.apply({ kind: 'fdb-pin', entry: { vni: 100, mac: '02:00:00:00:0c:02', peerId: 'c' } });
    expect(h.dp.fdbDump().map((e) => e.pinned)).toEqual([true, true]);
    expect(h.dp.counters().global.fdb_evicted).toBe(1);
  });

  it('identical network-add and unknown fdb-unpin are no-ops', () => {
    const h = running();
    const before = state(h);
    h.dp.apply({ kind: 'network-add', network: { vni: 100, name: 'blue', tapName: 'ovtap-100' } });
    h.dp.apply({ kind: 'fdb-unpin', vni: 100, mac: '02:00:00:00:99:99' });
    h.dp.apply({ kind: 'fdb-unpin', vni: 100, mac: X });
    expect(state(h)).toEqual(before);
    h.dp.apply({ kind: 'fdb-unpin', vni: 100, mac: '02:00:00:00:0C:01' });
    expect(h.dp.snapshot().pinned).toEqual([]);
  });

  it('peer-remove also drops the peer\'s pins (its index is gone)', () => {
    const h = running();
    h.dp.apply({ kind: 'peer-remove', id: 'c' });
    expect(h.dp.snapshot().pinned).toEqual([]);
    expect(h.dp.fdbDump().map((e) => e.peerId)).toEqual(['b']);
  });

  it('TAPs added before start() start with it; after start() at once', () => {
    const h = fakeHost('10.0.0.1');
    h.dp.apply(base());
    expect(h.taps.get(100)!.started).toBe(false);
    h.dp.start();
    expect(h.taps.get(100)!.started && h.taps.get(200)!.started && h.underlay.started).toBe(true);
    h.dp.apply({ kind: 'network-add', network: { vni: 300, name: 'g', tapName: 'ovtap-300' } });
    expect(h.taps.get(300)!.started).toBe(true);
  });

  it('network-add makes existing peers that list the VNI members', () => {
    const h = running();
    h.dp.apply({ kind: 'peer-set', peer: { id: 'b', address: '10.0.0.2', port: 4789, vnis: [100, 200, 300] } });
    h.dp.apply({ kind: 'network-add', network: { vni: 300, name: 'g', tapName: 'ovtap-300' } });
    h.taps.get(300)!.inject(ethFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01' }));
    expect(h.underlay.take().map((s) => s.address)).toEqual(['10.0.0.2']);
  });

  it('close() closes the TAPs and refuses further commands', () => {
    const h = running();
    h.dp.close();
    expect(h.taps.opened.every((t) => t.closed)).toBe(true);
    expect(() => h.dp.apply(base())).toThrow(expect.objectContaining({ code: 'OVN_ERR_INVALID' }));
    expect(h.dp.tick()).toBe(0);
  });
});

describe('snapshots', () => {
  it('round trip: snapshot() returns what was applied (normalised), and a fresh data plane reproduces it', () => {
    const h = fakeHost('10.0.0.1');
    const s = base();
    s.peers[0].vnis = [200, 100, 200];
    s.pinned[0].mac = '02:00:00:00:0C:01';
    h.dp.apply(s);
    const out = h.dp.snapshot();
    expect(out).toEqual({ ...base(), peers: base().peers.map((p) => ({ ...p, vnis: [...p.vnis].sort((a, b) => a - b) })) });
    const other = fakeHost('10.0.0.9');
    other.dp.apply(out);
    expect(other.dp.snapshot()).toEqual(out);
    expect(new Dataplane({ underlay: other.underlay, taps: other.taps, clock: other.clock }).snapshot().networks).toEqual([]);
  });

  it('a new snapshot diffs: unchanged networks keep their TAP, unchanged peers keep learned entries', () => {
    const h = fakeHost('10.0.0.1');
    h.dp.apply(base());
    h.dp.start();
    learned(h, '10.0.0.2');
    learned(h, '2001:db8::3', 100, '02:00:00:00:0c:09');
    const tap100 = h.taps.get(100)!;
    const tap200 = h.taps.get(200)!;
    const next = base();
    next.networks = [{ vni: 100, name: 'blue-renamed', tapName: 'ovtap-100' }, { vni: 300, name: 'g', tapName: 'ovtap-300' }];
    next.peers = [next.peers[0], { id: 'e', address: '10.0.0.5', port: 4789, vnis: [100, 300] }];
    next.pinned = [];
    h.dp.apply(next);
    expect(h.taps.get(100)).toBe(tap100);
    expect(tap100.closed).toBe(false);
    expect(tap200.closed).toBe(true);
    expect(h.taps.get(300)!.started).toBe(true);
    expect(h.dp.fdbDump().map((e) => [e.mac, e.peerId])).toEqual([[X, 'b']]);
    expect(h.dp.snapshot()).toEqual(next);
    expect([...h.underlay.peers().values()].map((p) => p.address).sort()).toEqual(['10.0.0.2', '10.0.0.5']);
  });

  it('a changed tapName reopens the network; peers may swap addresses in one snapshot', () => {
    const h = fakeHost('10.0.0.1');
    h.dp.apply(base());
    h.dp.start();
    learned(h, '10.0.0.2');
    const next = base();
    next.networks[0].tapName = 'ovtap-100b';
    const [b, c] = next.peers;
    next.peers = [{ ...b, address: c.address }, { ...c, address: b.address, vnis: [100, 200] }] as PeerSpec[];
    h.dp.apply(next);
    expect(h.taps.opened.map((t) => [t.name, t.closed])).toEqual([['ovtap-100', true], ['ovtap-200', false], ['ovtap-100b', false]]);
    expect(h.dp.fdbDump(100).filter((e) => !e.pinned)).toEqual([]);
    learned(h, '10.0.0.2', 200);
    expect(h.dp.fdbDump(200)).toMatchObject([{ mac: X, peerId: 'c' }]);
    expect(h.dp.snapshot()).toEqual(next);
  });

  it('counters() reports per-network counters with VNI and name', () => {
    const h = fakeHost('10.0.0.1');
    h.dp.apply(base());
    h.dp.start();
    learned(h, '10.0.0.2');
    const c = h.dp.counters();
    expect(c).toMatchObject({ fdbSize: 2, fdbCapacity: 65_536, peers: 2, global: { rx_datagrams: 1, fdb_learned: 1 } });
    expect(c.networks.map((n) => [n.vni, n.name, n.rx_frames])).toEqual([[100, 'blue', 1], [200, 'red', 0]]);
  });
});
