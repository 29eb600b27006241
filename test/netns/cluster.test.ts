/**
 * Agents that find each other through a store reachable over the underlay.
 *
 *   e1 -- [h1 agent] --+                      +-- [h2 agent] -- e2
 *                      +------ sw0 (u0) ------+
 *   e3 -- [h3 agent] --+                      +-- [h4: store (embedded or etcd), no agent]
 *
 * `ovnetd create` on h1 -> every agent makes the devices -> endpoints ping each other.
 * Runs once with the embedded store and once with a real etcd.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { makeLab, ping, type Lab } from '../helpers/lab.js';
import { cli, etcdBinary, startEmbeddedStore, startEtcd, startStoreAgent, type StoreProcess } from '../helpers/cluster.js';
import { waitFor } from '../helpers/netns.js';

function linksOf(lab: Lab, host: number): string {
  return lab.topo.exec(lab.topo.hostNs(host), ['ip', '-br', 'link']);
}

const backends: [string, (lab: Lab) => Promise<StoreProcess>][] = [
  ['embedded store', (lab) => startEmbeddedStore(lab, 4)],
  ['etcd', (lab) => startEtcd(lab, 4)],
];

describe.each(backends)('cluster through the %s', (name, startStore) => {
  let lab: Lab;
  let store: StoreProcess;

  beforeAll(async () => {
    if (name === 'etcd' && !etcdBinary() && !process.env.CI) return;
    lab = makeLab(4);
    store = await startStore(lab);
    lab.agents = await Promise.all([1, 2, 3].map((h) => startStoreAgent(lab, h, store.url)));
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('create on one host -> devices everywhere within 5 s -> endpoints ping each other', async (ctx) => {
    if (!lab) return ctx.skip();
    const r = cli(lab, 1, ['create', 'demo', '--subnet', '10.77.0.0/24', '--vni', '42', '--store', store.url]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const t0 = Date.now();
    await waitFor(() => [1, 2, 3].every((h) => /ovtap-42/.test(linksOf(lab, h))), 5000, 'devices on every host');
    expect(Date.now() - t0).toBeLessThan(5000);
    for (let h = 1; h <= 3; h++) lab.topo.addEndpoint(h, 42, `10.77.0.${h}`, 24);
    await waitFor(async () => (await lab.agents[0].status()).peers === 2, 5000, 'peers');
    for (const from of lab.topo.endpoints) {
      for (const to of lab.topo.endpoints) if (to !== from) expect(ping(lab, from, to.ip, 1)).toMatch(/1 received/);
    }
    const st = await lab.agents[0].status();
    expect(st.store.health).toBe('ok');
  });

  it('skips a corrupted or foreign store entry, reports it, and keeps the valid ones', async (ctx) => {
    if (!lab || name !== 'embedded store') return ctx.skip();
    // Written with Consul's plain KV API, as a hand edit or a foreign tool would.
    const put = (key: string, body: string) => lab.topo.exec(lab.topo.hostNs(4), [process.execPath, '-e',
      `fetch("http://192.168.77.4:8500/v1/kv/${key}", { method: "PUT", body: ${JSON.stringify(body)} }).then((r) => process.exit(r.ok ? 0 : 1))`]);
    put('ovnetd/v1/networks/broken', '{not json');
    put('ovnetd/v1/hosts/h-ffffffffffff', JSON.stringify({ version: 9, id: 'h-ffffffffffff' }));
    await waitFor(async () => (await lab.agents[0].status()).store.corruptEntries >= 2, 5000, 'corruption counted');
    const st = await lab.agents[0].status();
    expect(st.networks.map((n) => n.name)).toEqual(['demo']);
    expect(st.peers).toBe(2);
    expect(lab.agents[0].exitCode).toBeNull();
    expect(ping(lab, lab.topo.endpoints[0], '10.77.0.2', 1)).toMatch(/1 received/);
    expect(cli(lab, 1, ['ls', '--store', store.url]).stderr).toMatch(/warning: skipping corrupted store entry .*networks\/broken/);
  });

  it('SIGKILL one agent -> the others drop it within TTL + 5 s; restarted, it rejoins', async (ctx) => {
    if (!lab) return ctx.skip();
    lab.agents[2].kill();
    await lab.agents[2].exited;
    const t0 = Date.now();
    await waitFor(async () => (await lab.agents[0].status()).peers === 1 && (await lab.agents[1].status()).peers === 1, 10_000, 'peer dropped');
    expect(Date.now() - t0).toBeLessThan(10_000); // TTL 5 s + 5 s
    lab.agents[2] = await startStoreAgent(lab, 3, store.url);
    await waitFor(async () => (await lab.agents[0].status()).peers === 2, 10_000, 'peer back');
    expect(ping(lab, lab.topo.endpoints[0], '10.77.0.3', 2)).toMatch(/2 received/);
    expect(lab.agents[2].output).not.toMatch(/File exists/);
  });

  it('keeps forwarding through a 60 s store outage, then re-registers', async (ctx) => {
    if (!lab) return ctx.skip();
    await store.stop();
    const [e1, , e3] = lab.topo.endpoints;
    // ~64 s of pings at 2/s while the store is down.
    const long = lab.topo.spawn(e1.ns, ['ping', '-c', '128', '-i', '0.5', '-W', '1', '10.77.0.2']);
    let out = '';
    long.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const longDone = new Promise<void>((r) => long.once('exit', () => r()));
    // An agent restarted during the outage comes up forwarding from its saved state.
    await new Promise((r) => setTimeout(r, 3000));
    lab.agents[2].kill();
    await lab.agents[2].exited;
    lab.agents[2] = await startStoreAgent(lab, 3, store.url);
    expect(ping(lab, e3, '10.77.0.1', 3)).toMatch(/3 received/);
    expect((await lab.agents[2].status()).store.health).toBe('degraded');
    await longDone;
    expect(out).toMatch(/128 packets transmitted, 128 received/);
    const st = await lab.agents[0].status();
    expect(st.store.health).toBe('degraded');
    expect(st.peers).toBe(2);
    await store.restart();
    await waitFor(async () => {
      const all = await Promise.all(lab.agents.map((a) => a.status()));
      return all.every((s) => s.store.health === 'ok' && s.peers === 2);
    }, 40_000, 'agents healthy and re-registered');
    const ls = cli(lab, 2, ['ls', '--json', '--store', store.url]);
    expect(JSON.parse(ls.stdout).map((n: { name: string }) => n.name)).toEqual(['demo']);
    expect(ping(lab, lab.topo.endpoints[2], '10.77.0.1', 2)).toMatch(/2 received/);
  }, 180_000);

  it('rm removes the devices everywhere', async (ctx) => {
    if (!lab) return ctx.skip();
    const r = cli(lab, 2, ['rm', 'demo', '--store', store.url]);
    expect(r.status).toBe(0);
    await waitFor(() => [1, 2, 3].every((h) => !/ovtap-42|ovbr-42/.test(linksOf(lab, h))), 5000, 'devices removed');
  });
});
