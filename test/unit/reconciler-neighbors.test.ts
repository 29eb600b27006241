/**
 * Neighbours (ARP/ND suppression entries) from the store view to data-plane commands:
 * ClusterView lists remote endpoints of live hosts only; the reconciler sends them in the
 * snapshot, then as neigh-set / neigh-remove deltas (a re-created endpoint's new MAC replaces
 * the old one; nothing is duplicated), and the real Dataplane ends up holding exactly them.
 */
import { describe, it, expect } from 'vitest';
import { silentLogger } from '../../src/lib/log.js';
import { KeyLayout } from '../../src/control/keys.js';
import { CorruptionReporter, encodeEndpoint, encodeHost, encodeNetwork } from '../../src/control/documents.js';
import { ClusterView } from '../../src/daemon/cluster-view.js';
import { Reconciler, type DeviceOps } from '../../src/daemon/reconciler.js';
import type { DesiredState } from '../../src/daemon/desired-state.js';
import type { DataplaneCommand } from '../../src/dataplane/commands.js';
import { fakeHost } from '../fakes/fake-host.js';
import { FakeTapPort } from '../fakes/fake-tap.js';

const keys = new KeyLayout('t/');
const T = '2025-01-02T03:04:05.000Z';

function ops(): DeviceOps {
  return {
    async setup(net) { return { tap: new FakeTapPort(`ovtap-${net.vni}`, net.vni), spec: { vni: net.vni, name: net.name, tapName: `ovtap-${net.vni}` }, mtu: 1450 }; },
    async teardown() { /* nothing to remove */ },
  };
}

function recorder(): { cmds: DataplaneCommand[]; apply(c: DataplaneCommand): void } {
  const cmds: DataplaneCommand[] = [];
  return { cmds, apply: (c) => { cmds.push(c); } };
}

const net = { name: 'demo', vni: 42, subnet: '10.77.0.0/24' };
const peer = { id: 'b', address: '192.168.77.2', port: 4789, vnis: [42] };
const state = (neighbors: DesiredState['neighbors'], networks = [net]): DesiredState => ({ networks, peers: [peer], pinned: [], neighbors });

describe('ClusterView neighbours', () => {
  it('lists endpoints of other live hosts, with their VNI, and nothing of this host or of dead hosts', () => {
    const v = new ClusterView(keys, 'me', new CorruptionReporter());
    const put = (key: string, value: string) => v.apply({ type: 'put', entry: { key, value, modifyIndex: 1 }, index: 1 }, 0);
    v.apply({ type: 'reset', entries: [], index: 1 }, 0);
    const gen = v.generation;
    put(keys.network('demo'), encodeNetwork({ version: 1, name: 'demo', vni: 42, subnet: '10.77.0.0/24', createdAt: T }));
    for (const id of ['me', 'b']) put(keys.host(id), encodeHost({ version: 1, id, address: id === 'me' ? '192.168.77.1' : '192.168.77.2', port: 4789, agentVersion: '0', startedAt: T }));
    const ep = (ip: string, host: string) => put(keys.endpoint('demo', ip), encodeEndpoint({ version: 1, network: 'demo', ip, mac: `02:42:0a:4d:00:0${ip.slice(-1)}`, host, createdAt: T }));
    ep('10.77.0.2', 'me');
    ep('10.77.0.3', 'b');
    ep('10.77.0.4', 'dead');
    expect(v.generation).toBeGreaterThan(gen);
    expect(v.desired(0).neighbors).toEqual([{ vni: 42, ip: '10.77.0.3', mac: '02:42:0a:4d:00:03' }]);
    expect(v.desired(0).pinned).toEqual([{ vni: 42, mac: '02:42:0a:4d:00:03', peerId: 'b' }]);
  });
});

describe('Reconciler neighbour commands', () => {
  it('snapshot carries them; changes become neigh-set / neigh-remove; a removed network takes its own along', async () => {
    const sink = recorder();
    const r = new Reconciler(ops(), sink, silentLogger);
    const n3 = { vni: 42, ip: '10.77.0.3', mac: '02:42:0a:4d:00:03' };
    const n4 = { vni: 42, ip: '10.77.0.4', mac: '02:42:0a:4d:00:04' };
    await r.submit(state([n3]));
    expect(sink.cmds).toEqual([expect.objectContaining({ kind: 'snapshot', neighbors: [n3] })]);
    sink.cmds.length = 0;
    await r.submit(state([n3]));
    expect(sink.cmds).toEqual([]);
    const moved = { ...n3, mac: '02:42:0a:4d:00:99' };
    await r.submit(state([moved, n4]));
    expect(sink.cmds).toEqual([{ kind: 'neigh-set', entry: moved }, { kind: 'neigh-set', entry: n4 }]);
    sink.cmds.length = 0;
    await r.submit(state([n4]));
    expect(sink.cmds).toEqual([{ kind: 'neigh-remove', vni: 42, ip: '10.77.0.3' }]);
    sink.cmds.length = 0;
    await r.submit({ networks: [], peers: [], pinned: [], neighbors: [] });
    expect(sink.cmds.map((c) => c.kind)).toEqual(['peer-remove', 'network-remove']);
    sink.cmds.length = 0;
    await r.submit(state([n4]));
    expect(sink.cmds.filter((c) => c.kind === 'neigh-set')).toEqual([{ kind: 'neigh-set', entry: n4 }]);
  });

  it('drives a real Dataplane to exactly the wanted table through any sequence of states', async () => {
    const h = fakeHost('192.168.77.1');
    const r = new Reconciler({ setup: async (n) => ({ tap: h.taps.open(n.vni, `ovtap-${n.vni}`), spec: { vni: n.vni, name: n.name, tapName: `ovtap-${n.vni}` }, mtu: 1450 }), teardown: async () => {} }, h.dp, silentLogger);
    const seq: DesiredState['neighbors'][] = [
      [{ vni: 42, ip: '10.77.0.3', mac: '02:42:0a:4d:00:03' }],
      [{ vni: 42, ip: '10.77.0.3', mac: '02:42:0a:4d:00:33' }, { vni: 42, ip: 'fd77::5', mac: '06:42:00:00:00:05' }],
      [],
      [{ vni: 42, ip: 'fd77::5', mac: '06:42:00:00:00:05' }],
    ];
    for (const n of seq) {
      await r.submit(state(n));
      expect(h.dp.neighborDump()).toEqual([...n!].sort((a, b) => (a.ip < b.ip ? -1 : 1)));
    }
  });
});
