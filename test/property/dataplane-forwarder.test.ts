/**
 * Random datagrams from random sources: fromUnderlay never throws, and every datagram is either
 * delivered to exactly one TAP or counted under exactly one drop reason.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fakeHost } from '../fakes/fake-host.js';
import { buildVxlanHeader } from '../../src/dataplane/vxlan.js';

const SOURCES = ['10.0.0.2', '10.0.0.3', '10.0.0.9', '2001:db8::2'];
const DROPS = ['too_short', 'bad_flags', 'reserved_bits', 'unknown_vni', 'unknown_peer', 'peer_not_member', 'inner_too_short'];

const datagram = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc.tuple(fc.constantFrom(100, 200, 300), fc.uint8Array({ maxLength: 80 })).map(([vni, body]) => Buffer.concat([buildVxlanHeader(vni), body])),
);

describe('fromUnderlay accounting', () => {
  it('delivered + dropped = received, for any bytes from any source', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ from: fc.constantFrom(...SOURCES), bytes: datagram }), { maxLength: 150 }), (ds) => {
        const h = fakeHost('10.0.0.1', { fdbCapacity: 8 });
        h.dp.apply({
          kind: 'snapshot',
          networks: [{ vni: 100, name: 'a', tapName: 't100' }, { vni: 200, name: 'b', tapName: 't200' }],
          peers: [
            { id: 'b', address: '10.0.0.2', port: 4789, vnis: [100] },
            { id: 'c', address: '10.0.0.3', port: 4789, vnis: [100, 200] },
            { id: 'v6', address: '2001:db8::2', port: 4789, vnis: [200] },
          ],
          pinned: [],
        });
        h.dp.start();
        h.underlay.receive(ds);
        const delivered = h.taps.get(100)!.take().length + h.taps.get(200)!.take().length;
        const c = h.dp.counters();
        const dropped = DROPS.reduce((s, k) => s + c.global[k], 0);
        expect(c.global.rx_datagrams).toBe(ds.length);
        expect(delivered + dropped).toBe(ds.length);
        expect(c.networks.reduce((s, n) => s + (n.rx_frames as number), 0)).toBe(delivered);
        expect(c.fdbSize).toBeLessThanOrEqual(8);
      }),
      { numRuns: 300 },
    );
  });
});
