/**
 * Three hosts with static peers: broadcast is replicated to every peer (head-end replication);
 * once the destination is learned, traffic is unicast to one peer only.
 *
 *   e1 -- [h1 agent] --+                 +-- [h2 agent] -- e2
 *                      +---- sw0 (u0) ---+
 *                      +-- [h3 agent] -- e3
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { makeLab, startStaticAgents, ping, counter, type Lab } from '../helpers/lab.js';

async function netCounters(lab: Lab, host: number): Promise<Record<string, number>> {
  return (await lab.agents[host - 1].status()).networks[0].counters;
}

describe('three hosts: flooding and learning', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = makeLab(3);
    await startStaticAgents(lab, [{ name: 'demo', vni: 42 }]);
    for (let i = 1; i <= 3; i++) lab.topo.addEndpoint(i, 42, `10.77.0.${i}`, 24, { ipv6: false });
  });
  afterAll(async () => { await lab?.destroy(); });

  it('an ARP broadcast from e1 reaches h2 and h3; then e1->e2 is unicast', async () => {
    const [e1] = lab.topo.endpoints;
    const before3 = counter(await netCounters(lab, 3), 'rx_frames');
    const flood1 = counter(await netCounters(lab, 1), 'flooded_frames');
    // Resolving 10.77.0.2 broadcasts an ARP request: h1 floods it to both peers.
    expect(ping(lab, e1, '10.77.0.2', 1)).toMatch(/1 received/);
    expect(counter(await netCounters(lab, 1), 'flooded_frames')).toBeGreaterThan(flood1);
    expect(counter(await netCounters(lab, 3), 'rx_frames')).toBeGreaterThan(before3);
    // h3 learned e1's MAC from the flooded broadcast: the broadcast really arrived there.
    const fdb3 = (await lab.agents[2].call('fdb')) as { mac: string; dst: string }[];
    expect(fdb3).toContainEqual(expect.objectContaining({ mac: e1.mac, dst: '192.168.77.1' }));

    const base3 = counter(await netCounters(lab, 3), 'rx_frames');
    const uni1 = counter(await netCounters(lab, 1), 'unicast_frames');
    expect(ping(lab, e1, '10.77.0.2', 20)).toMatch(/20 received/);
    const c1 = await netCounters(lab, 1);
    expect(counter(c1, 'unicast_frames') - uni1).toBeGreaterThanOrEqual(20);
    // Flooded, the 20 requests would all reach h3. Unicast, h3 sees none of them: only stray
    // link-up multicast (MLD reports of the fresh bridge ports) may still arrive.
    expect(counter(await netCounters(lab, 3), 'rx_frames') - base3).toBeLessThan(8);
  });

  it('every endpoint reaches every other', () => {
    for (const from of lab.topo.endpoints) {
      for (const to of lab.topo.endpoints) if (to !== from) expect(ping(lab, from, to.ip, 1)).toMatch(/1 received/);
    }
  });
});
