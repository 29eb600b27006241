/**
 * Endpoints on agents without a store (static networks and peers): the operator gives each
 * address (there is no shared view to make them unique across hosts); the agent checks it
 * against the configured subnet and its own endpoints, and remembers them across restarts.
 *
 *     e1                  e2                 endpoint namespaces (10.66.0.0/24)
 *      |                   |
 *   [h1 agent] ------- [h2 agent]            static peers of each other
 *      |                   |
 *   --------- sw0: underlay 192.168.77.0/24 ---------
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeLab, startStaticAgents, type Lab } from '../helpers/lab.js';
import { cli } from '../helpers/cluster.js';
import { Netns, waitFor } from '../helpers/netns.js';
import { startAgent } from '../../src/lab/agent-process.js';

const NETWORKS = [{ name: 'demo', vni: 42, subnet: '10.66.0.0/24' }];
const made: Netns[] = [];

function pingOk(from: Netns, to: string): boolean {
  return spawnSync('ip', ['netns', 'exec', from.name, 'ping', '-c', '1', '-W', '2', to], { encoding: 'utf8', timeout: 20_000 }).status === 0;
}

describe('endpoints without a store', () => {
  let lab: Lab;
  let e1: Netns;
  let e2: Netns;
  const sock = (h: number) => ['--control-socket', lab.agents[h - 1].socket];

  beforeAll(async () => {
    lab = makeLab(2);
    await startStaticAgents(lab, NETWORKS);
    e1 = new Netns('e1');
    e2 = new Netns('e2');
    made.push(e1, e2);
  });

  afterAll(async () => {
    await lab?.destroy();
    for (const ns of made) {
      ns.destroy();
      rmSync(join('/etc/netns', ns.name), { recursive: true, force: true });
    }
  });

  it('requires --ip, checks it against the subnet, and then works across hosts', async () => {
    const none = cli(lab, 1, ['attach', 'demo', '--netns', e1.name, ...sock(1)]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/OVN_ERR_USAGE: this agent has no store, so there is no cluster-wide address management: give the address with --ip/);
    const gw = cli(lab, 1, ['attach', 'demo', '--netns', e1.name, '--ip', '10.66.0.1', ...sock(1)]);
    expect(gw.stderr).toMatch(/OVN_ERR_INVALID: 10\.66\.0\.1 is reserved as the gateway address/);
    expect(e1.ip(['-br', 'link'])).not.toMatch(/eth0/);
    const a = cli(lab, 1, ['attach', 'demo', '--netns', e1.name, '--ip', '10.66.0.10', '--name', 'e1', ...sock(1)]);
    expect(a.stderr).toBe('');
    expect(a.stdout).toMatch(/attached netns .* as "e1" to demo: 10\.66\.0\.10\/24 mac 02:42:0a:42:00:0a on eth0/);
    const b = cli(lab, 2, ['attach', 'demo', '--netns', e2.name, '--ip', '10.66.0.11', '--name', 'e2', ...sock(2)]);
    expect(b.status).toBe(0);
    expect(pingOk(e1, '10.66.0.11')).toBe(true);
    const e3 = new Netns('e3');
    made.push(e3);
    const taken = cli(lab, 1, ['attach', 'demo', '--netns', e3.name, '--ip', '10.66.0.10', ...sock(1)]);
    expect(taken.stderr).toMatch(/OVN_ERR_EXISTS: 10\.66\.0\.10 is already in use in network "demo"/);
    // Names: only this host's endpoints are known without a store.
    const hosts = readFileSync(join('/etc/netns', e1.name, 'hosts'), 'utf8');
    expect(hosts).toContain('10.66.0.10\te1 e1.demo');
    expect(hosts).not.toContain('e2');
    const list = JSON.parse(cli(lab, 1, ['endpoints', '--json', ...sock(1)]).stdout) as { ip: string; local: boolean }[];
    expect(list).toEqual([expect.objectContaining({ ip: '10.66.0.10', local: true, namespace: e1.name })]);
  }, 60_000);

  it('remembers endpoints across an agent restart; detach frees the address for re-use', async () => {
    const dir = lab.agents[0].dir;
    await lab.agents[0].stop();
    const h = lab.topo.hosts;
    lab.agents[0] = await startAgent(lab.topo, 1, { dir, config: { advertise: h[0].underlayIp, networks: NETWORKS, peers: [h[1].underlayIp], logLevel: 'warn' } });
    await waitFor(() => pingOk(e2, '10.66.0.10'), 5000, 'forwarding after restart');
    const list = JSON.parse(cli(lab, 1, ['endpoints', 'demo', '--json', ...sock(1)]).stdout) as { ip: string }[];
    expect(list.map((r) => r.ip)).toEqual(['10.66.0.10']);
    const d = cli(lab, 1, ['detach', 'demo', '--netns', e1.name, ...sock(1)]);
    expect(d.status).toBe(0);
    expect(existsSync(join('/etc/netns', e1.name, 'hosts'))).toBe(false);
    expect(cli(lab, 1, ['attach', 'demo', '--netns', e1.name, '--ip', '10.66.0.10', ...sock(1)]).status).toBe(0);
    expect(pingOk(e2, '10.66.0.10')).toBe(true);
  }, 60_000);
});
