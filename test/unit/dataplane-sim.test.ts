/**
 * Three data planes over one in-memory wire, each with a TAP on VNI 100:
 *
 *        hostA 10.0.0.1        hostB 10.0.0.2        hostC 10.0.0.3
 *        [tap ovtap-100]       [tap ovtap-100]       [tap ovtap-100]
 *              |                     |                     |
 *        ======+===== FakeWire (UDP 4789, copies on send) ==+======
 */
import { describe, it, expect, beforeEach } from 'vitest';
import type { PeerSpec } from '../../src/dataplane/commands.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { fakeHost, type FakeHost } from '../fakes/fake-host.js';
import { FakeWire } from '../fakes/fake-underlay.js';
import { BROADCAST, ethFrame } from '../fakes/frames.js';

const MAC = { a: '02:00:00:00:00:0a', b: '02:00:00:00:00:0b', c: '02:00:00:00:00:0c' };
const ADDR = { a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' };
type Name = keyof typeof ADDR;
const NAMES: Name[] = ['a', 'b', 'c'];

const arpRequest = (from: Name) => ethFrame({ dst: BROADCAST, src: MAC[from], type: 0x0806, payload: Buffer.from(`who-has from ${from}`) });
const arpReply = (from: Name, to: Name) => ethFrame({ dst: MAC[to], src: MAC[from], type: 0x0806, payload: Buffer.from(`is-at ${from}`) });
const peer = (n: Name): PeerSpec => ({ id: `host-${n}`, address: ADDR[n], port: 4789, vnis: [100] });

describe('three hosts over the fake wire', () => {
  let wire: FakeWire;
  let clock: FakeClock;
  let hosts: Record<Name, FakeHost>;
  const tap = (n: Name) => hosts[n].taps.get(100)!;
  const received = () => Object.fromEntries(NAMES.map((n) => [n, tap(n).take()])) as Record<Name, Buffer[]>;

  beforeEach(() => {
    wire = new FakeWire();
    clock = new FakeClock();
    hosts = Object.fromEntries(NAMES.map((n) => [n, fakeHost(ADDR[n], { wire, clock, fdbAgeMs: 60_000, ageBudget: 1 << 20 })])) as Record<Name, FakeHost>;
    for (const n of NAMES) {
      hosts[n].dp.apply({
        kind: 'snapshot',
        networks: [{ vni: 100, name: 'blue', tapName: 'ovtap-100' }],
        peers: NAMES.filter((o) => o !== n).map(peer),
        pinned: [],
      });
      hosts[n].dp.start();
    }
  });

  it('a broadcast from A reaches B and C; the reply reaches only A; then unicast both ways', () => {
    tap('a').inject(arpRequest('a'));
    expect(wire.run()).toBe(2);
    let got = received();
    expect(got.b).toEqual([arpRequest('a')]);
    expect(got.c).toEqual([arpRequest('a')]);
    expect(got.a).toEqual([]);

    tap('b').inject(arpReply('b', 'a'));
    expect(wire.run()).toBe(1);
    got = received();
    expect(got).toEqual({ a: [arpReply('b', 'a')], b: [], c: [] });

    tap('a').inject(arpReply('a', 'b'));
    expect(wire.run()).toBe(1);
    expect(received()).toEqual({ a: [], b: [arpReply('a', 'b')], c: [] });
    expect(hosts.a.dp.fdbDump()).toMatchObject([{ mac: MAC.b, peerId: 'host-b' }]);
    expect(hosts.c.dp.fdbDump()).toMatchObject([{ mac: MAC.a, peerId: 'host-a' }]);
    expect(wire.lost).toBe(0);
  });

  it('after A removes C, A floods only to B', () => {
    hosts.a.dp.apply({ kind: 'peer-remove', id: 'host-c' });
    tap('a').inject(arpRequest('a'));
    wire.run();
    const got = received();
    expect(got.b).toHaveLength(1);
    expect(got.c).toEqual([]);
    // C still knows A; what C sends A is now dropped as from an unknown peer.
    tap('c').inject(arpRequest('c'));
    wire.run();
    expect(received().a).toEqual([]);
    expect(hosts.a.dp.counters().global.unknown_peer).toBe(1);
  });

  it('when B forgets A by ageing, B floods to A and C again', () => {
    tap('a').inject(arpRequest('a'));
    wire.run();
    tap('b').inject(arpReply('b', 'a'));
    expect(wire.run()).toBe(1);
    received();
    clock.advance(60_000);
    for (const n of NAMES) hosts[n].dp.tick();
    tap('b').inject(arpReply('b', 'a'));
    expect(wire.run()).toBe(2);
    const got = received();
    expect(got.a).toHaveLength(1);
    expect(got.c).toHaveLength(1);
  });

  it('traffic of a VNI a peer left is not delivered there', () => {
    hosts.a.dp.apply({ kind: 'peer-set', peer: { ...peer('c'), vnis: [] } });
    tap('c').inject(arpRequest('c'));
    wire.run();
    const got = received();
    expect(got.a).toEqual([]);
    expect(got.b).toHaveLength(1);
    expect(hosts.a.dp.counters().global.peer_not_member).toBe(1);
  });
});
