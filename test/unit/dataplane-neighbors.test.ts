/**
 * ARP/ND suppression: the neighbour table (against a Map model), the exact bytes of the ARP reply
 * and of the neighbour advertisement (with an independently computed ICMPv6 checksum), what is
 * deliberately not answered, and the neigh-* commands through Dataplane with fake ports.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import fc from 'fast-check';
import { NeighborTable, icmpv6Checksum } from '../../src/dataplane/neighbors.js';
import type { DataplaneCommand } from '../../src/dataplane/commands.js';
import { fakeHost, type FakeHost } from '../fakes/fake-host.js';
import { BROADCAST, ethFrame } from '../fakes/frames.js';
import type { FakeTapPort } from '../fakes/fake-tap.js';

const ASKER = '02:00:00:00:00:01';
const REMOTE_MAC = '02:42:0a:4d:00:07';
const REMOTE6_MAC = '06:42:00:00:00:07';

function macBytes(m: string): number[] {
  return m.split(':').map((x) => parseInt(x, 16));
}

function ip4(text: string): number[] {
  return text.split('.').map(Number);
}

/** fd77::7 style, only the forms this test uses ("fd77::N", "fe80::N"). */
function ip6(text: string): number[] {
  const [head, tail] = text.split('::');
  const out = new Array<number>(16).fill(0);
  const h = parseInt(head, 16);
  out[0] = h >> 8;
  out[1] = h & 0xff;
  const t = parseInt(tail, 16);
  out[14] = t >> 8;
  out[15] = t & 0xff;
  return out;
}

function arpRequest(o: { src?: string; sha?: string; spa: string; tpa: string; dst?: string; oper?: number }): Buffer {
  const p = Buffer.alloc(28);
  p.set([0, 1, 8, 0, 6, 4, 0, o.oper ?? 1]);
  p.set(macBytes(o.sha ?? o.src ?? ASKER), 8);
  p.set(ip4(o.spa), 14);
  p.set(ip4(o.tpa), 24);
  return ethFrame({ dst: o.dst ?? BROADCAST, src: o.src ?? ASKER, type: 0x0806, payload: p });
}

/** Reference ones'-complement sum, written differently from the code under test. */
function referenceChecksum(src: number[], dst: number[], icmp: Buffer): number {
  const pseudo = Buffer.concat([Buffer.from(src), Buffer.from(dst), Buffer.from([0, 0, icmp.length >> 8, icmp.length & 0xff, 0, 0, 0, 58]), icmp]);
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += pseudo.readUInt16BE(i);
  sum = (sum % 0xffff) || 0xffff;
  return (0xffff - sum) & 0xffff;
}

function solicitation(o: { src6: string; target: string; dst?: string; dst6?: number[]; hop?: number }): Buffer {
  const icmp = Buffer.alloc(32);
  icmp[0] = 135;
  icmp.set(ip6(o.target), 8);
  icmp.set([1, 1, ...macBytes(ASKER)], 24);
  const src = o.src6 === '::' ? new Array<number>(16).fill(0) : ip6(o.src6);
  const t = ip6(o.target);
  const dst = o.dst6 ?? [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14], t[15]];
  icmp.writeUInt16BE(referenceChecksum(src, dst, icmp), 2);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(icmp.length, 4);
  ip[6] = 58;
  ip[7] = o.hop ?? 255;
  ip.set(src, 8);
  ip.set(dst, 24);
  return ethFrame({ dst: o.dst ?? `33:33:ff:${t.slice(13).map((b) => b.toString(16).padStart(2, '0')).join(':')}`, src: ASKER, type: 0x86dd, payload: Buffer.concat([ip, icmp]) });
}

type Host = FakeHost & { tap: FakeTapPort; writes: number[] };

function setup(neighbors: { vni: number; ip: string; mac: string }[] = [
  { vni: 100, ip: '10.77.0.7', mac: REMOTE_MAC },
  { vni: 100, ip: 'fd77::7', mac: REMOTE6_MAC },
]): Host {
  const h = fakeHost('10.0.0.1');
  h.dp.apply({
    kind: 'snapshot',
    networks: [{ vni: 100, name: 'blue', tapName: 'ovtap-100' }, { vni: 200, name: 'red', tapName: 'ovtap-200' }],
    peers: [{ id: 'b', address: '10.0.0.2', port: 4789, vnis: [100, 200] }],
    pinned: [{ vni: 100, mac: REMOTE_MAC, peerId: 'b' }],
    neighbors,
  });
  h.dp.start();
  const tap = h.taps.get(100)!;
  const writes: number[] = [];
  const write = tap.write.bind(tap);
  tap.write = (list) => { writes.push(list.count); return write(list); };
  return { ...h, tap, writes };
}

const counters = (h: FakeHost, vni = 100) => h.dp.counters().networks.find((n) => n.vni === vni)!;

describe('NeighborTable', () => {
  const VNIS = [1, 2, 0xffffff];
  const ADDRS: [number, number, number, number][] = [
    [0, 0, 0xffff, 0x0a4d0007], [0, 0, 0xffff, 0x0a4d0008], [0, 0, 0xffff, 0xffffffff],
    [0xfd770000, 0, 0, 7], [0xfd770000, 0, 0, 8], [0xfe800000, 0, 0x11, 0x80000000],
  ];
  const keyArb = fc.record({ vni: fc.constantFrom(...VNIS), a: fc.integer({ min: 0, max: ADDRS.length - 1 }) });
  const opArb = fc.oneof(
    fc.record({ op: fc.constant('set' as const), k: keyArb, lo: fc.integer({ min: 0, max: 0xffffffff }) }),
    fc.record({ op: fc.constant('remove' as const), k: keyArb }),
    fc.record({ op: fc.constant('lookup' as const), k: keyArb }),
    fc.record({ op: fc.constant('flushVni' as const), vni: fc.constantFrom(...VNIS) }),
  );

  it('agrees with a Map model under random set/remove/flush (small table: collisions, full)', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
      const t = new NeighborTable(5);
      const model = new Map<string, number>();
      const key = (vni: number, a: number) => `${vni}/${a}`;
      for (const o of ops) {
        if (o.op === 'set') {
          const k = key(o.k.vni, o.k.a);
          if (!model.has(k) && model.size >= 5) {
            expect(() => t.set(o.k.vni, ADDRS[o.k.a], 0x0242, o.lo)).toThrow(expect.objectContaining({ code: 'OVN_ERR_CAPACITY' }));
            continue;
          }
          t.set(o.k.vni, ADDRS[o.k.a], 0x0242, o.lo);
          model.set(k, o.lo);
        } else if (o.op === 'remove') {
          expect(t.remove(o.k.vni, ADDRS[o.k.a])).toBe(model.delete(key(o.k.vni, o.k.a)));
        } else if (o.op === 'flushVni') {
          const gone = [...model.keys()].filter((k) => k.startsWith(`${o.vni}/`));
          for (const k of gone) model.delete(k);
          expect(t.flushVni(o.vni)).toBe(gone.length);
        }
        for (const vni of VNIS) {
          ADDRS.forEach((w, a) => {
            const slot = t.lookup(vni, w[0], w[1], w[2], w[3]);
            const want = model.get(key(vni, a));
            expect(slot >= 0 ? t.macLo[slot] : undefined).toBe(want);
          });
        }
        expect(t.size).toBe(model.size);
      }
    }));
  });
});

describe('ARP suppression', () => {
  let h: Host;
  beforeEach(() => { h = setup(); });

  it('answers a broadcast request for a known remote endpoint with the exact reply, and sends nothing to peers', () => {
    h.tap.inject(arpRequest({ spa: '10.77.0.2', tpa: '10.77.0.7' }));
    expect(h.underlay.take()).toEqual([]);
    const [reply] = h.tap.take();
    const want = Buffer.alloc(60);
    want.set([...macBytes(ASKER), ...macBytes(REMOTE_MAC), 0x08, 0x06], 0);
    want.set([0, 1, 8, 0, 6, 4, 0, 2, ...macBytes(REMOTE_MAC), 10, 77, 0, 7, ...macBytes(ASKER), 10, 77, 0, 2], 14);
    expect(reply.toString('hex')).toBe(want.toString('hex'));
    expect(counters(h)).toMatchObject({ arp_suppressed: 1, nd_suppressed: 0, tx_frames: 0, flooded_frames: 0 });
    expect(h.dp.counters().global).toMatchObject({ suppressed_arp: 1, suppressed_nd: 0 });
  });

  it('writes all replies of one batch in a single TAP write', () => {
    h.tap.inject(
      arpRequest({ spa: '10.77.0.2', tpa: '10.77.0.7' }),
      arpRequest({ spa: '10.77.0.3', tpa: '10.77.0.7', src: '02:00:00:00:00:03' }),
      ethFrame({ dst: BROADCAST, src: ASKER, type: 0x0800 }),
    );
    expect(h.writes).toEqual([2]);
    expect(h.tap.take().map((f) => f.subarray(0, 6).toString('hex'))).toEqual(['020000000001', '020000000003']);
    expect(h.underlay.take()).toHaveLength(1); // the IPv4 broadcast still floods
  });

  it('floods what it must not answer: unknown target, gratuitous ARP, probe, reply, other VNI, unicast', () => {
    const frames = [
      arpRequest({ spa: '10.77.0.2', tpa: '10.77.0.99' }),
      arpRequest({ spa: '10.77.0.7', tpa: '10.77.0.7' }),
      arpRequest({ spa: '0.0.0.0', tpa: '10.77.0.7' }),
      arpRequest({ spa: '10.77.0.2', tpa: '10.77.0.7', oper: 2 }),
    ];
    h.tap.inject(...frames);
    expect(h.underlay.take()).toHaveLength(frames.length);
    h.taps.get(200)!.inject(arpRequest({ spa: '10.77.0.2', tpa: '10.77.0.7' }));
    expect(h.underlay.take()).toHaveLength(1);
    h.tap.inject(arpRequest({ spa: '10.77.0.2', tpa: '10.77.0.7', dst: REMOTE_MAC }));
    expect(h.underlay.take().map((s) => s.address)).toEqual(['10.0.0.2']);
    expect(h.tap.take()).toEqual([]);
    expect(counters(h).arp_suppressed).toBe(0);
    expect(counters(h, 200).arp_suppressed).toBe(0);
  });
});

describe('neighbour-solicitation suppression', () => {
  let h: Host;
  beforeEach(() => { h = setup(); });

  it('answers a solicitation with a solicited, override NA carrying the target MAC and a valid checksum', () => {
    h.tap.inject(solicitation({ src6: 'fe80::1', target: 'fd77::7' }));
    expect(h.underlay.take()).toEqual([]);
    const [na] = h.tap.take();
    expect(na.length).toBe(14 + 40 + 32);
    expect([...na.subarray(0, 14)]).toEqual([...macBytes(ASKER), ...macBytes(REMOTE6_MAC), 0x86, 0xdd]);
    const ip = na.subarray(14, 54);
    expect([...ip.subarray(0, 8)]).toEqual([0x60, 0, 0, 0, 0, 32, 58, 255]);
    expect([...ip.subarray(8, 24)]).toEqual(ip6('fd77::7'));
    expect([...ip.subarray(24, 40)]).toEqual(ip6('fe80::1'));
    const icmp = na.subarray(54);
    expect([icmp[0], icmp[1], icmp[4], icmp[5], icmp[6], icmp[7]]).toEqual([136, 0, 0x60, 0, 0, 0]);
    expect([...icmp.subarray(8, 24)]).toEqual(ip6('fd77::7'));
    expect([...icmp.subarray(24, 32)]).toEqual([2, 1, ...macBytes(REMOTE6_MAC)]);
    const zeroed = Buffer.from(icmp);
    zeroed.writeUInt16BE(0, 2);
    expect(icmp.readUInt16BE(2)).toBe(referenceChecksum([...ip.subarray(8, 24)], [...ip.subarray(24, 40)], zeroed));
    expect(counters(h)).toMatchObject({ nd_suppressed: 1, arp_suppressed: 0 });
    expect(h.dp.counters().global).toMatchObject({ suppressed_arp: 0, suppressed_nd: 1 });
  });

  it('icmpv6Checksum matches the reference on random messages', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (hdr, msg) => {
      const b = Buffer.concat([Buffer.from(hdr), Buffer.from(msg)]);
      b.writeUInt16BE(0, 42);
      const m = Buffer.from(b.subarray(40));
      expect(icmpv6Checksum(b, 0, 32)).toBe(referenceChecksum([...b.subarray(8, 24)], [...b.subarray(24, 40)], m));
    }));
  });

  it('floods DAD (source ::), unknown targets, bad hop limits and unicast solicitations', () => {
    h.tap.inject(
      solicitation({ src6: '::', target: 'fd77::7' }),
      solicitation({ src6: 'fe80::1', target: 'fd77::99' }),
      solicitation({ src6: 'fe80::1', target: 'fd77::7', hop: 64 }),
    );
    expect(h.underlay.take()).toHaveLength(3);
    h.tap.inject(solicitation({ src6: 'fe80::1', target: 'fd77::7', dst: REMOTE6_MAC, dst6: ip6('fd77::7') }));
    expect(h.underlay.take()).toHaveLength(1);
    expect(h.tap.take()).toEqual([]);
    expect(counters(h).nd_suppressed).toBe(0);
  });
});

describe('neigh-* commands', () => {
  let h: Host;
  beforeEach(() => { h = setup([]); });
  const ask = () => { h.tap.inject(arpRequest({ spa: '10.77.0.2', tpa: '10.77.0.7' })); return h.tap.take().length; };

  it('neigh-set answers, a second set replaces the MAC, neigh-remove stops answering', () => {
    expect(ask()).toBe(0);
    h.dp.apply({ kind: 'neigh-set', entry: { vni: 100, ip: '10.77.0.7', mac: REMOTE_MAC } });
    expect(ask()).toBe(1);
    h.dp.apply({ kind: 'neigh-set', entry: { vni: 100, ip: '10.77.0.7', mac: '02:42:0a:4d:00:99' } });
    h.tap.inject(arpRequest({ spa: '10.77.0.2', tpa: '10.77.0.7' }));
    expect(h.tap.take()[0].subarray(6, 12).toString('hex')).toBe('02420a4d0099');
    expect(h.dp.neighborDump()).toEqual([{ vni: 100, ip: '10.77.0.7', mac: '02:42:0a:4d:00:99' }]);
    h.dp.apply({ kind: 'neigh-remove', vni: 100, ip: '10.77.0.7' });
    expect(ask()).toBe(0);
    expect(h.dp.neighborDump()).toEqual([]);
  });

  it('refuses bad entries and unknown networks without changing anything', () => {
    h.dp.apply({ kind: 'neigh-set', entry: { vni: 100, ip: 'fd77:0::7', mac: REMOTE6_MAC } });
    const before = h.dp.snapshot();
    expect(before.neighbors).toEqual([{ vni: 100, ip: 'fd77::7', mac: REMOTE6_MAC }]);
    const bad: unknown[] = [
      { kind: 'neigh-set', entry: { vni: 300, ip: '10.77.0.7', mac: REMOTE_MAC } },
      { kind: 'neigh-set', entry: { vni: 100, ip: '10.77.0.300', mac: REMOTE_MAC } },
      { kind: 'neigh-set', entry: { vni: 100, ip: '10.77.0.7', mac: '01:00:5e:00:00:01' } },
      { kind: 'neigh-remove', vni: 100, ip: 'nope' },
      { ...before, neighbors: [{ vni: 999, ip: '10.77.0.7', mac: REMOTE_MAC }] },
      { ...before, neighbors: [{ vni: 100, ip: '10.77.0.7', mac: REMOTE_MAC }, { vni: 100, ip: '10.77.0.7', mac: REMOTE_MAC }] },
    ];
    for (const cmd of bad) {
      expect(() => h.dp.apply(cmd as DataplaneCommand)).toThrow(expect.objectContaining({ name: 'OvnError' }));
      expect(h.dp.snapshot()).toEqual(before);
    }
  });

  it('a snapshot replaces the table, and removing a network flushes its neighbours', () => {
    h.dp.apply({ kind: 'neigh-set', entry: { vni: 200, ip: '10.88.0.5', mac: REMOTE_MAC } });
    const snap = h.dp.snapshot();
    h.dp.apply({ ...snap, neighbors: [{ vni: 100, ip: '10.77.0.7', mac: REMOTE_MAC }] });
    expect(h.dp.neighborDump()).toEqual([{ vni: 100, ip: '10.77.0.7', mac: REMOTE_MAC }]);
    expect(ask()).toBe(1);
    h.dp.apply({ kind: 'network-remove', vni: 100 });
    expect(h.dp.neighborDump()).toEqual([]);
    expect(h.dp.snapshot()).not.toHaveProperty('neighbors');
  });
});
