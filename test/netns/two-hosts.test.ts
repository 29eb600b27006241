/**
 * Two hosts running the agent with static peers, one endpoint each.
 *
 *   e1 10.77.0.1 --veth-- [h1 ovbr-42/ovtap-42 agent] --u0 192.168.77.1-- sw0 --192.168.77.2 u0-- [h2 ...] --veth-- e2 10.77.0.2
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { makeLab, startStaticAgents, ping, type Lab } from '../helpers/lab.js';

const FIXTURES = join(__dirname, '../fixtures');

describe('two hosts, static peers', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = makeLab(2);
    await startStaticAgents(lab, [{ name: 'demo', vni: 42, subnet: '10.77.0.0/24' }]);
    lab.topo.addEndpoint(1, 42, '10.77.0.1', 24);
    lab.topo.addEndpoint(2, 42, '10.77.0.2', 24);
  });
  afterAll(async () => { await lab?.destroy(); });

  it('made the devices: bridge and TAP in it, MTU underlay - 50, both up', () => {
    const links = JSON.parse(lab.topo.exec(lab.topo.hostNs(1), ['ip', '-j', '-d', 'link', 'show'])) as { ifname: string; mtu: number; master?: string; operstate: string; flags: string[] }[];
    const br = links.find((l) => l.ifname === 'ovbr-42');
    const tap = links.find((l) => l.ifname === 'ovtap-42');
    expect(br?.mtu).toBe(1450);
    expect(tap?.mtu).toBe(1450);
    expect(tap?.master).toBe('ovbr-42');
    expect(br?.flags).toContain('UP');
    expect(tap?.flags).toContain('UP');
  });

  it('pings both ways', () => {
    const [e1, e2] = lab.topo.endpoints;
    expect(ping(lab, e1, '10.77.0.2')).toMatch(/3 received/);
    expect(ping(lab, e2, '10.77.0.1')).toMatch(/3 received/);
  });

  it('carries a 100 MB TCP transfer intact', async () => {
    const [e1, e2] = lab.topo.endpoints;
    const server = lab.topo.spawn(e2.ns, [process.execPath, join(FIXTURES, 'tcp-transfer.mjs'), 'server', '5001']);
    let out = '';
    server.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (out.includes('listening')) { clearInterval(t); resolve(); } }, 50); });
    const sent = lab.topo.exec(e1.ns, [process.execPath, join(FIXTURES, 'tcp-transfer.mjs'), 'client', '10.77.0.2', '5001', String(100 * 1024 * 1024)], 120_000).trim();
    await new Promise<void>((resolve) => server.once('exit', () => resolve()));
    const received = out.split('\n').find((l) => /^\d+ [0-9a-f]{64}$/.test(l));
    expect(sent).toMatch(/^104857600 [0-9a-f]{64}$/);
    expect(received).toBe(sent);
  }, 180_000);

  it('answers status, peers and fdb on the control socket', async () => {
    const [a1] = lab.agents;
    const st = await a1.status();
    expect(st.networks.map((n) => n.vni)).toEqual([42]);
    expect(st.peers).toBe(1);
    const fdb = (await a1.call('fdb')) as { mac: string; dst: string; vni: number }[];
    expect(fdb).toContainEqual(expect.objectContaining({ mac: lab.topo.endpoints[1].mac, dst: '192.168.77.2', vni: 42 }));
  });

  it('stops on SIGTERM with exit 0 and leaves no TAP', async () => {
    const code = await lab.agents[1].stop();
    expect(code).toBe(0);
    const links = lab.topo.exec(lab.topo.hostNs(2), ['ip', '-br', 'link']);
    expect(links).not.toMatch(/ovtap-42/);
    expect(links).toMatch(/ovbr-42/); // endpoints stay attached to the bridge across restarts
  });
});
