/**
 * ovnetd to ovnetd with offloads, over an IPv4 and an IPv6 underlay: large TCP transfers each
 * way, over IPv4 and IPv6 inside the overlay, arrive intact (SHA-256), and the offload path
 * really carried them: TAP super-frames were segmented and sent with UDP GSO, GRO reads held
 * several datagrams, and what the agents wrote into their TAPs was coalesced into super-frames.
 * With OVNETD_TEST_ARGS=--no-offload the same transfers must pass with the counters off.
 *
 *   e1 10.77.0.1 / fd42::1 -- [h1: ovbr-42 + ovtap-42, agent] --u0-- sw0 --u0-- [h2 ...] -- e2 10.77.0.2 / fd42::2
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { makeLab, startStaticAgents, ping, type Lab } from '../helpers/lab.js';
import { addIpv6, delta, linkStats, offloadOff, transfer, underlayOffload } from '../fixtures/offload-lab.js';

const MB = 1024 * 1024;
/** Largest Ethernet frame at the overlay MTU: anything larger written to a TAP was a super-frame. */
const MAX_PLAIN_FRAME = 1514;

describe.each([4, 6] as const)('offloads, IPv%i underlay', (family) => {
  let lab: Lab;
  beforeAll(async () => {
    lab = makeLab(2, family);
    await startStaticAgents(lab, [{ name: 'demo', vni: 42 }]);
    const e1 = lab.topo.addEndpoint(1, 42, '10.77.0.1', 24);
    const e2 = lab.topo.addEndpoint(2, 42, '10.77.0.2', 24);
    addIpv6(lab, e1, 'fd42::1/64');
    addIpv6(lab, e2, 'fd42::2/64');
  });
  afterAll(async () => { await lab?.destroy(); });

  it('pings', () => {
    expect(ping(lab, lab.topo.endpoints[0], '10.77.0.2')).toMatch(/3 received/);
    expect(ping(lab, lab.topo.endpoints[1], 'fd42::1')).toMatch(/3 received/);
  });

  it('carries large TCP transfers intact each way, over IPv4 and IPv6', async () => {
    const [e1, e2] = lab.topo.endpoints;
    const taps = [1, 2].map((h) => linkStats(lab, lab.topo.hostNs(h), 'ovtap-42'));
    await transfer(lab, e1, e2, '10.77.0.2', 64 * MB);
    await transfer(lab, e2, e1, '10.77.0.1', 64 * MB);
    await transfer(lab, e1, e2, 'fd42::2', 32 * MB);
    await transfer(lab, e2, e1, 'fd42::1', 32 * MB);
    const written = [1, 2].map((h, i) => delta(taps[i], linkStats(lab, lab.topo.hostNs(h), 'ovtap-42')));
    const off = await Promise.all(lab.agents.map((a) => underlayOffload(a)));
    if (offloadOff()) {
      expect(off).toEqual([undefined, undefined]);
      for (const w of written) expect(w.rxBytes / w.rxPackets).toBeLessThanOrEqual(MAX_PLAIN_FRAME);
      return;
    }
    for (const o of off) {
      expect(o).toMatchObject({ gso: true, gro: true, txBadOffload: 0 });
      expect(o!.txSegmented).toBeGreaterThan(100);
      expect(o!.txGsoMessages).toBeGreaterThan(100);
      expect(o!.rxAggregates).toBeGreaterThan(100);
    }
    // What the agents wrote into their TAPs: mostly super-frames.
    for (const w of written) expect(w.rxBytes / w.rxPackets).toBeGreaterThan(4 * MAX_PLAIN_FRAME);
  }, 300_000);
});
