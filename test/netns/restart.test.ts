/**
 * Crash and restart: an agent SIGKILLed and started again 20 times in a row forwards again
 * within 2 s each time, with no "file exists" error and the same devices; SIGTERM deregisters
 * and exits 0 within 5 s.
 *
 *   e1 -- [h1 agent] --+-- sw0 --+-- [h2 agent, killed and restarted] -- e2
 *                      +-- [h3: embedded store]
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { makeLab, type Lab } from '../helpers/lab.js';
import { cli, startEmbeddedStore, startStoreAgent, type StoreProcess } from '../helpers/cluster.js';
import { waitFor } from '../helpers/netns.js';

function devices(lab: Lab, host: number): string[] {
  const links = JSON.parse(lab.topo.exec(lab.topo.hostNs(host), ['ip', '-j', 'link'])) as { ifname: string; master?: string; mtu: number }[];
  return links.filter((l) => /^ov/.test(l.ifname)).map((l) => `${l.ifname}:${l.master ?? ''}:${l.mtu}`).sort();
}

function pingOnce(lab: Lab): boolean {
  const [e1, e2] = lab.topo.endpoints;
  return spawnSync('ip', ['netns', 'exec', e2.ns, 'ping', '-c', '1', '-W', '1', e1.ip]).status === 0;
}

describe('restarts', () => {
  let lab: Lab;
  let store: StoreProcess;
  beforeAll(async () => {
    lab = makeLab(3);
    store = await startEmbeddedStore(lab, 3);
    lab.agents = [await startStoreAgent(lab, 1, store.url), await startStoreAgent(lab, 2, store.url)];
    expect(cli(lab, 1, ['create', 'demo', '--subnet', '10.77.0.0/24', '--vni', '42', '--store', store.url]).status).toBe(0);
    await waitFor(() => [1, 2].every((h) => devices(lab, h).some((d) => d.startsWith('ovtap-42'))), 5000, 'devices');
    lab.topo.addEndpoint(1, 42, '10.77.0.1', 24);
    lab.topo.addEndpoint(2, 42, '10.77.0.2', 24);
    await waitFor(() => pingOnce(lab), 5000, 'first ping');
  });
  afterAll(async () => { await lab?.destroy(); });

  it('SIGKILL and start again, 20 times: forwarding within 2 s, same devices, no "file exists"', async () => {
    const before = devices(lab, 2);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      lab.agents[1].kill();
      await lab.agents[1].exited;
      const t0 = Date.now();
      lab.agents[1] = await startStoreAgent(lab, 2, store.url);
      await waitFor(() => pingOnce(lab), 4000, `forwarding after restart ${i + 1}`);
      times.push(Date.now() - t0);
      expect(lab.agents[1].output).not.toMatch(/file exists/i);
      expect(devices(lab, 2)).toEqual(before);
    }
    expect(Math.max(...times), `restart-to-forwarding times (ms): ${times.join(' ')}`).toBeLessThanOrEqual(2000);
  }, 120_000);

  it('SIGTERM deregisters at once and exits 0 within 5 s', async () => {
    const t0 = Date.now();
    const code = await lab.agents[1].stop(5000);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Deregistered at once: h1 drops the peer long before the 5 s TTL would expire it.
    await waitFor(async () => (await lab.agents[0].status()).peers === 0, 2000, 'peer gone from h1');
  });
});
