/**
 * An IPv6 network: attached endpoints reach each other by address and by name, neighbour
 * solicitations for known endpoints are answered by the agent (the kernel accepts our NA), and an
 * agent restarted within the grace period keeps its endpoints.
 *
 *     s1                   s2                 endpoint namespaces (fd77::/64)
 *      |                    |
 *   [h1 agent]          [h2 agent]          [h3: embedded store]
 *      |                    |                    |
 *   ------------- sw0: underlay 192.168.77.0/24 -------------
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeLab, type Lab } from '../helpers/lab.js';
import { cli, startEmbeddedStore, startStoreAgent, type StoreProcess } from '../helpers/cluster.js';
import { Netns, waitFor } from '../helpers/netns.js';

const NET = 'six';
const made: Netns[] = [];

function pingOk(from: Netns, to: string): boolean {
  return spawnSync('ip', ['netns', 'exec', from.name, 'ping', '-c', '1', '-W', '2', to], { encoding: 'utf8', timeout: 20_000 }).status === 0;
}

describe('endpoints on an IPv6 network', () => {
  let lab: Lab;
  let store: StoreProcess;
  const eps: { ns: Netns; ip: string; mac: string; name: string }[] = [];

  beforeAll(async () => {
    lab = makeLab(3);
    store = await startEmbeddedStore(lab, 3);
    lab.agents = await Promise.all([1, 2].map((h) => startStoreAgent(lab, h, store.url)));
    expect(cli(lab, 1, ['create', NET, '--subnet', 'fd77::/64', '--vni', '77', '--store', store.url]).status).toBe(0);
    await waitFor(async () => (await lab.agents[0].status()).networks.length === 1 && (await lab.agents[1].status()).networks.length === 1, 10_000, 'network everywhere');
    for (const h of [1, 2]) {
      const ns = new Netns(`s${h}`);
      made.push(ns);
      const r = cli(lab, h, ['attach', NET, '--netns', ns.name, '--name', `s${h}`, '--json', '--control-socket', lab.agents[h - 1].socket]);
      expect(r.stderr).toBe('');
      const row = JSON.parse(r.stdout) as { ip: string; mac: string };
      eps.push({ ns, ip: row.ip, mac: row.mac, name: `s${h}` });
    }
  });

  afterAll(async () => {
    await lab?.destroy();
    for (const ns of made) {
      ns.destroy();
      rmSync(join('/etc/netns', ns.name), { recursive: true, force: true });
    }
  });

  it('gets fd77::2 and fd77::3 with 06:42 MACs, and pings by address and by name; NS answered locally', async () => {
    expect(eps.map((e) => e.ip).sort()).toEqual(['fd77::2', 'fd77::3']);
    for (const e of eps) expect(e.mac).toBe(`06:42:00:00:00:0${e.ip.slice(-1)}`);
    const [s1, s2] = eps;
    await waitFor(async () => ((await lab.agents[0].call('neighbors')) as unknown[]).length === 1, 5000, 'neighbour on h1');
    for (const e of eps) e.ns.ip(['-6', 'neigh', 'flush', 'all']);
    const before = (await lab.agents[0].status()).networks[0].counters.nd_suppressed;
    expect(pingOk(s1.ns, s2.ip)).toBe(true);
    expect(pingOk(s2.ns, s1.ip)).toBe(true);
    await waitFor(() => pingOk(s1.ns, 's2') && pingOk(s2.ns, 's1.six'), 5000, 'names');
    expect((await lab.agents[0].status()).networks[0].counters.nd_suppressed).toBeGreaterThan(before);
    // The answer is the one the kernel keeps: s1 resolved s2 to s2's MAC.
    const neigh = s1.ns.exec(['ip', '-6', 'neigh', 'show', s2.ip]);
    expect(neigh).toContain(s2.mac);
  }, 60_000);

  it('an agent restarted within the grace period keeps its endpoints', async () => {
    await lab.agents[0].stop();
    lab.agents[0] = await startStoreAgent(lab, 1, store.url);
    await new Promise((r) => setTimeout(r, 6000)); // a full sync cycle
    expect(eps[0].ns.ip(['-br', 'link'])).toMatch(/eth0/);
    const rows = (await lab.agents[0].call('endpoints')) as { ip: string; local: boolean }[];
    expect(rows.filter((r) => r.local).map((r) => r.ip)).toEqual([eps[0].ip]);
    expect(pingOk(eps[1].ns, 's1')).toBe(true);
  }, 60_000);
});
