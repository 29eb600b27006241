/**
 * The forwarding paths through Dataplane with fake ports. Host "local" (10.0.0.1) carries
 * VNIs 100 and 200; peers b and c take part in 100, d only in 200.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { buildVxlanHeader } from '../../src/dataplane/vxlan.js';
import { fakeHost, type FakeHost } from '../fakes/fake-host.js';
import { BROADCAST, ethFrame, vxlanDatagram } from '../fakes/frames.js';
import type { FakeTapPort } from '../fakes/fake-tap.js';

const LOCAL = '02:00:00:00:00:01';
const X = '02:00:00:00:0b:01'; // behind b
const Y = '02:00:00:00:0c:01'; // behind c
const B = '10.0.0.2';
const C = '10.0.0.3';
const D = '10.0.0.4';

function setup(opts: Parameters<typeof fakeHost>[1] = {}): FakeHost & { tap100: FakeTapPort; tap200: FakeTapPort } {
  const h = fakeHost('10.0.0.1', { ageBudget: 1 << 20, ...opts });
  h.dp.apply({
    kind: 'snapshot',
    networks: [{ vni: 100, name: 'blue', tapName: 'ovtap-100' }, { vni: 200, name: 'red', tapName: 'ovtap-200' }],
    peers: [
      { id: 'b', address: B, port: 4789, vnis: [100] },
      { id: 'c', address: C, port: 4789, vnis: [100] },
      { id: 'd', address: D, port: 4789, vnis: [200] },
    ],
    pinned: [],
  });
  h.dp.start();
  return { ...h, tap100: h.taps.get(100)!, tap200: h.taps.get(200)! };
}

const peerIndex = (h: FakeHost, address: string) => [...h.underlay.peers()].find(([, p]) => p.address === address)![0];
const net = (h: FakeHost, vni: number) => h.dp.counters().networks.find((n) => n.vni === vni)!;

describe('forwarding from the TAP', () => {
  let h: ReturnType<typeof setup>;
  beforeEach(() => { h = setup(); });

  it('floods a broadcast to every member of the VNI, encapsulated, and to nobody else', () => {
    const f = ethFrame({ dst: BROADCAST, src: LOCAL });
    h.tap100.inject(f);
    const sent = h.underlay.take();
    expect(sent.map((s) => s.address).sort()).toEqual([B, C]);
    for (const s of sent) expect(s.bytes).toEqual(Buffer.concat([buildVxlanHeader(100), f]));
    expect(sent[0].srcPort).toBe(sent[1].srcPort);
    expect(net(h, 100)).toMatchObject({ tx_frames: 1, tx_bytes: f.length, flooded_frames: 1, unicast_frames: 0, tx_datagrams: 2 });
    h.tap200.inject(f);
    expect(h.underlay.take().map((s) => s.address)).toEqual([D]);
  });

  it('floods unknown unicast, then sends to one peer after learning', () => {
    const toX = ethFrame({ dst: X, src: LOCAL });
    h.tap100.inject(toX);
    expect(h.underlay.take()).toHaveLength(2);
    const reply = ethFrame({ dst: LOCAL, src: X });
    h.underlay.receive([{ from: B, bytes: vxlanDatagram(100, reply) }]);
    expect(h.tap100.take()).toEqual([reply]);
    expect(h.dp.fdbDump(100)).toMatchObject([{ vni: 100, mac: X, peerId: 'b', peerAddress: B, pinned: false }]);
    h.tap100.inject(toX);
    const sent = h.underlay.take();
    expect(sent.map((s) => s.address)).toEqual([B]);
    expect(sent[0].peer).toBe(peerIndex(h, B));
    expect(net(h, 100)).toMatchObject({ unicast_frames: 1, flooded_frames: 1, rx_frames: 1, rx_bytes: reply.length });
    expect(h.dp.counters().global.fdb_learned).toBe(1);
  });

  it('learns per VNI: a MAC learned in 100 is unknown in 200', () => {
    h.underlay.receive([{ from: B, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X })) }]);
    h.tap200.inject(ethFrame({ dst: X, src: LOCAL }));
    expect(h.underlay.take().map((s) => s.address)).toEqual([D]);
  });

  it('drops frames shorter than an Ethernet header and forwards the rest of the batch', () => {
    h.tap100.inject(Buffer.alloc(13, 0xff), ethFrame({ dst: BROADCAST, src: LOCAL }), Buffer.alloc(0));
    expect(h.underlay.take()).toHaveLength(2);
    expect(h.dp.counters().global.tap_too_short).toBe(2);
  });

  it('counts frames to flood in a network without peers', () => {
    h.dp.apply({ kind: 'network-add', network: { vni: 300, name: 'lonely', tapName: 'ovtap-300' } });
    h.taps.get(300)!.inject(ethFrame({ dst: BROADCAST, src: LOCAL }));
    expect(h.underlay.take()).toHaveLength(0);
    expect(net(h, 300)).toMatchObject({ flood_no_peers: 1, tx_frames: 0 });
  });

  it('flushes the send list when it fills: a full batch of floods to many peers all goes out', () => {
    const peers = Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, address: `10.0.1.${i + 1}`, port: 4789, vnis: [100] }));
    for (const p of peers) h.dp.apply({ kind: 'peer-set', peer: p });
    const frames = Array.from({ length: 64 }, (_, i) => ethFrame({ dst: BROADCAST, src: LOCAL, payload: Buffer.from([i]) }));
    h.tap100.inject(...frames);
    const sent = h.underlay.take();
    expect(sent).toHaveLength(64 * 12);
    expect(sent.filter((s) => s.address === '10.0.1.5').map((s) => s.bytes[8 + 14])).toEqual(frames.map((_, i) => i));
  });

  it('counts datagrams the underlay refuses', () => {
    h.underlay.refuseSends = 1;
    h.tap100.inject(ethFrame({ dst: BROADCAST, src: LOCAL }));
    expect(h.underlay.take()).toHaveLength(1);
    expect(h.dp.counters().global.underlay_send_failed).toBe(1);
  });
});

describe('forwarding from the underlay', () => {
  let h: ReturnType<typeof setup>;
  beforeEach(() => { h = setup(); });

  it('drops and counts every kind of bad datagram while delivering the good ones in the same batch', () => {
    const good = (n: number) => ethFrame({ dst: LOCAL, src: X, payload: Buffer.from([n]) });
    const badFlags = vxlanDatagram(100, good(0));
    badFlags[0] = 0;
    const reserved = vxlanDatagram(100, good(0));
    reserved[7] = 1;
    h.underlay.receive([
      { from: B, bytes: vxlanDatagram(100, good(1)) },
      { from: B, bytes: Buffer.alloc(5) },
      { from: B, bytes: badFlags },
      { from: B, bytes: reserved },
      { from: B, bytes: vxlanDatagram(999, good(0)) },
      { from: '10.9.9.9', bytes: vxlanDatagram(100, good(0)) },
      { from: D, bytes: vxlanDatagram(100, good(0)) },
      { from: B, bytes: vxlanDatagram(100, Buffer.alloc(13)) },
      { from: C, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: Y, payload: Buffer.from([2]) })) },
    ]);
    expect(h.tap100.take().map((f) => f[14])).toEqual([1, 2]);
    expect(h.tap200.take()).toEqual([]);
    expect(h.dp.counters().global).toMatchObject({
      rx_datagrams: 9, too_short: 1, bad_flags: 1, reserved_bits: 1, unknown_vni: 1, unknown_peer: 1,
      peer_not_member: 1, inner_too_short: 1, fdb_learned: 2,
    });
    expect(h.dp.fdbDump().map((e) => [e.mac, e.peerId])).toEqual([[X, 'b'], [Y, 'c']]);
  });

  it('identifies peers by address whatever the source port, IPv4-mapped or not', () => {
    h.underlay.receive([
      { from: B, srcPort: 61000, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X })) },
      { from: `::ffff:${C}`, srcPort: 1, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: Y })) },
    ]);
    expect(h.tap100.take()).toHaveLength(2);
  });

  it('never learns a multicast source, but delivers the frame', () => {
    h.underlay.receive([{ from: B, bytes: vxlanDatagram(100, ethFrame({ dst: BROADCAST, src: '01:00:5e:00:00:01' })) }]);
    expect(h.tap100.take()).toHaveLength(1);
    expect(h.dp.counters()).toMatchObject({ fdbSize: 0, global: { multicast_source: 1 } });
  });

  it('a MAC moving to another peer follows it', () => {
    h.underlay.receive([{ from: B, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X })) }]);
    h.underlay.receive([{ from: C, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X })) }]);
    expect(h.dp.fdbDump()).toMatchObject([{ mac: X, peerId: 'c' }]);
    expect(h.dp.counters().global.fdb_moved).toBe(1);
  });

  it('learning never overrides a pinned entry', () => {
    h.dp.apply({ kind: 'fdb-pin', entry: { vni: 100, mac: X, peerId: 'c' } });
    h.underlay.receive([{ from: B, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X })) }]);
    expect(h.tap100.take()).toHaveLength(1);
    expect(h.dp.fdbDump()).toMatchObject([{ mac: X, peerId: 'c', pinned: true }]);
    expect(h.dp.counters().global.fdb_pinned_conflict).toBe(1);
    h.tap100.inject(ethFrame({ dst: X, src: LOCAL }));
    expect(h.underlay.take().map((s) => s.address)).toEqual([C]);
  });

  it('at fdb capacity keeps delivering and counts what it could not learn', () => {
    const small = setup({ fdbCapacity: 4 });
    const frames = Array.from({ length: 6 }, (_, i) => vxlanDatagram(100, ethFrame({ dst: LOCAL, src: `02:00:00:00:0b:${10 + i}` })));
    small.underlay.receive(frames.map((bytes) => ({ from: B, bytes })));
    expect(small.tap100.take()).toHaveLength(6);
    expect(small.dp.counters()).toMatchObject({ fdbSize: 4, fdbCapacity: 4, global: { fdb_full: 2, fdb_learned: 4 } });
  });

  it('counts frames the TAP refuses', () => {
    h.tap100.refuseWrites = 2;
    const d = vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X }));
    h.underlay.receive([{ from: B, bytes: d }, { from: B, bytes: d }, { from: B, bytes: d }]);
    expect(h.tap100.take()).toHaveLength(1);
    expect(h.dp.counters().global.tap_write_failed).toBe(2);
  });

  it('delivers a full receive batch spread over two networks, in order per network', () => {
    const data = Array.from({ length: 64 }, (_, i) => (i % 2
      ? { from: D, bytes: vxlanDatagram(200, ethFrame({ dst: LOCAL, src: '02:00:00:00:0d:01', payload: Buffer.from([i]) })) }
      : { from: B, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X, payload: Buffer.from([i]) })) }));
    h.underlay.receive(data);
    expect(h.tap100.take().map((f) => f[14])).toEqual(data.map((_, i) => i).filter((i) => i % 2 === 0));
    expect(h.tap200.take().map((f) => f[14])).toEqual(data.map((_, i) => i).filter((i) => i % 2 === 1));
  });
});

describe('control changes seen by the forwarder', () => {
  let h: ReturnType<typeof setup>;
  beforeEach(() => { h = setup(); });
  const learnX = () => h.underlay.receive([{ from: B, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X })) }]);

  it('peer-remove flushes what was learned from the peer and stops flooding to it', () => {
    learnX();
    const bIndex = peerIndex(h, B);
    h.dp.apply({ kind: 'peer-remove', id: 'b' });
    expect(h.dp.fdbDump()).toEqual([]);
    expect(h.underlay.peers().has(bIndex)).toBe(false);
    h.tap100.inject(ethFrame({ dst: X, src: LOCAL }));
    expect(h.underlay.take().map((s) => s.address)).toEqual([C]);
    learnX();
    expect(h.dp.counters().global.unknown_peer).toBe(1);
  });

  it('peer-set shrinking the VNI set flushes the peer there and stops accepting it', () => {
    learnX();
    h.dp.apply({ kind: 'peer-set', peer: { id: 'b', address: B, port: 4789, vnis: [200] } });
    expect(h.dp.fdbDump()).toEqual([]);
    h.tap100.inject(ethFrame({ dst: BROADCAST, src: LOCAL }));
    expect(h.underlay.take().map((s) => s.address)).toEqual([C]);
    learnX();
    expect(h.dp.counters().global.peer_not_member).toBe(1);
    h.tap200.inject(ethFrame({ dst: BROADCAST, src: LOCAL }));
    expect(h.underlay.take().map((s) => s.address).sort()).toEqual([B, D]);
  });

  it('peer-set changing address keeps learned entries and re-targets the port', () => {
    learnX();
    h.dp.apply({ kind: 'peer-set', peer: { id: 'b', address: '10.0.0.22', port: 5000, vnis: [100] } });
    expect(h.dp.fdbDump()).toMatchObject([{ mac: X, peerId: 'b', peerAddress: '10.0.0.22' }]);
    h.tap100.inject(ethFrame({ dst: X, src: LOCAL }));
    expect(h.underlay.take().map((s) => [s.address, s.port])).toEqual([['10.0.0.22', 5000]]);
    learnX();
    expect(h.dp.counters().global.unknown_peer).toBe(1);
  });

  it('ageing removes learned entries after fdbAgeMs, never pinned ones', () => {
    const aged = setup({ fdbAgeMs: 10_000 });
    aged.underlay.receive([{ from: B, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X })) }]);
    aged.dp.apply({ kind: 'fdb-pin', entry: { vni: 100, mac: Y, peerId: 'c' } });
    aged.clock.advance(9_999);
    expect(aged.dp.tick()).toBe(0);
    expect(aged.dp.fdbDump(100)).toMatchObject([{ mac: X, ageSeconds: 9.999 }, { mac: Y, pinned: true }]);
    aged.underlay.receive([{ from: B, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: X })) }]);
    aged.clock.advance(9_999);
    expect(aged.dp.tick()).toBe(0);
    aged.clock.advance(1);
    expect(aged.dp.tick()).toBe(1);
    aged.clock.advance(1_000_000);
    aged.dp.tick();
    expect(aged.dp.fdbDump().map((e) => e.mac)).toEqual([Y]);
    expect(aged.dp.counters().global.fdb_aged).toBe(1);
  });

  it('tick sweeps a bounded slice: with a small budget a full sweep takes several ticks', () => {
    const slow = setup({ fdbAgeMs: 1_000, fdbCapacity: 1024, ageBudget: 256 });
    const frames = Array.from({ length: 50 }, (_, i) => ({ from: B, bytes: vxlanDatagram(100, ethFrame({ dst: LOCAL, src: `02:00:00:00:0b:${(i + 16).toString(16)}` })) }));
    slow.underlay.receive(frames);
    slow.clock.advance(1_000);
    const perTick: number[] = [];
    for (let t = 0; t < 8; t++) perTick.push(slow.dp.tick());
    expect(perTick.reduce((a, b) => a + b, 0)).toBe(50);
    expect(perTick.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it('network-remove drops the VNI\'s entries; datagrams for it become unknown_vni', () => {
    learnX();
    h.dp.apply({ kind: 'network-remove', vni: 100 });
    expect(h.tap100.closed).toBe(true);
    expect(h.dp.fdbDump()).toEqual([]);
    learnX();
    expect(h.dp.counters().global.unknown_vni).toBe(1);
  });
});
