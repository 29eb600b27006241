/**
 * Endpoints attached through the CLI by real agents finding each other through the embedded store.
 *
 *    a1  a2            b1  b2            c1  c2        endpoint namespaces (`ovnetd attach demo --netns ...`)
 *     \  /              \  /              \  /
 *   [h1 agent]        [h2 agent]        [h3 agent]     [h4: embedded store]
 *   ovbr-42+TAP       ovbr-42+TAP       ovbr-42+TAP
 *        |                 |                 |                 |
 *   ------------------ sw0: underlay 192.168.77.0/24 ------------------
 *
 * Network "demo" 10.77.0.0/24, VNI 42: .0 network, .1 gateway, .255 broadcast are never handed out.
 * Names: every attached namespace gets /etc/netns/<ns>/hosts from its agent (see daemon/hosts-file.ts).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeLab, type Lab } from '../helpers/lab.js';
import { cli, startEmbeddedStore, startStoreAgent, type StoreProcess } from '../helpers/cluster.js';
import { Netns, waitFor } from '../helpers/netns.js';
import { OVNETD_BIN } from '../../src/lab/agent-process.js';

interface Row { network: string; ip: string; mac: string; host: string; name?: string; local: boolean; namespace?: string; pid?: number; ifname?: string }
interface Ep { label: string; host: number; ns: Netns; ip: string; mac: string }

const NET = 'demo';
const VNI = 42;
const GRACE = 3;
const made: Netns[] = [];
const pids: number[] = [];

function netns(label: string): Netns {
  const ns = new Netns(label);
  made.push(ns);
  return ns;
}

function sock(lab: Lab, host: number): string[] {
  return ['--control-socket', lab.agents[host - 1].socket];
}

function attach(lab: Lab, host: number, target: string[], extra: string[] = []): ReturnType<typeof cli> {
  return cli(lab, host, ['attach', NET, ...target, ...extra, '--json', ...sock(lab, host)]);
}

/** The CLI without blocking the event loop, for concurrent runs. */
function cliAsync(lab: Lab, host: number, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c: ChildProcess = spawn('ip', ['netns', 'exec', lab.topo.hostNs(host), process.execPath, OVNETD_BIN, ...args]);
    let stdout = '';
    let stderr = '';
    c.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    c.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    c.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

async function endpoints(lab: Lab, host = 1): Promise<Row[]> {
  return (await lab.agents[host - 1].call('endpoints', { network: NET })) as Row[];
}

function pingOk(from: Netns, to: string, count = 1): boolean {
  const r = spawnSync('ip', ['netns', 'exec', from.name, 'ping', '-c', String(count), '-i', '0.2', '-W', '2', to], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0;
}

function links(ns: string): string {
  return spawnSync('ip', ['-n', ns, '-br', 'link'], { encoding: 'utf8' }).stdout;
}

function hostLinks(lab: Lab, host: number): string {
  return lab.topo.exec(lab.topo.hostNs(host), ['ip', '-br', 'link']);
}

function hostsFile(ns: Netns): string {
  const p = join('/etc/netns', ns.name, 'hosts');
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

describe('endpoints: attach, IPAM, ARP suppression, names', () => {
  let lab: Lab;
  let store: StoreProcess;
  const eps: Ep[] = [];

  beforeAll(async () => {
    lab = makeLab(4);
    store = await startEmbeddedStore(lab, 4);
    lab.agents = await Promise.all([1, 2, 3].map((h) => startStoreAgent(lab, h, store.url, ['--endpoint-grace', String(GRACE)])));
    const r = cli(lab, 1, ['create', NET, '--subnet', '10.77.0.0/24', '--vni', String(VNI), '--store', store.url]);
    expect(r.stderr).toBe('');
    await waitFor(() => [1, 2, 3].every((h) => /ovbr-42/.test(hostLinks(lab, h))), 10_000, 'bridges on every host');
    await waitFor(async () => (await lab.agents[0].status()).peers === 2, 10_000, 'peers');
  });

  afterAll(async () => {
    for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    await lab?.destroy();
    for (const ns of made) {
      ns.destroy();
      rmSync(join('/etc/netns', ns.name), { recursive: true, force: true });
    }
  });

  it('three hosts, two endpoints each: distinct addresses, derived MACs, the full ping matrix by address and by name', async () => {
    for (const [host, labels] of [[1, ['a1', 'a2']], [2, ['b1', 'b2']], [3, ['c1', 'c2']]] as const) {
      for (const label of labels) {
        const ns = netns(label);
        const r = attach(lab, host, ['--netns', ns.name], ['--name', label]);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const row = JSON.parse(r.stdout) as Row & { prefix: number };
        expect(row).toMatchObject({ network: NET, name: label, local: true, namespace: ns.name, ifname: 'eth0', prefix: 24 });
        eps.push({ label, host, ns, ip: row.ip, mac: row.mac });
      }
    }
    const ips = eps.map((e) => e.ip);
    expect(new Set(ips).size).toBe(6);
    for (const e of eps) {
      const last = Number(e.ip.split('.')[3]);
      expect(e.ip.startsWith('10.77.0.')).toBe(true);
      expect(last).toBeGreaterThanOrEqual(2);
      expect(last).toBeLessThanOrEqual(254);
      expect(e.mac).toBe(`02:42:0a:4d:00:${last.toString(16).padStart(2, '0')}`);
      const [link] = JSON.parse(e.ns.exec(['ip', '-j', 'addr', 'show', 'eth0'])) as { address: string; mtu: number; operstate: string; addr_info: { family: string; local: string; prefixlen: number }[] }[];
      const [bridge] = JSON.parse(lab.topo.exec(lab.topo.hostNs(e.host), ['ip', '-j', 'link', 'show', 'ovbr-42'])) as { mtu: number }[];
      expect(link.address).toBe(e.mac);
      expect(link.mtu).toBe(bridge.mtu);
      expect(link.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${e.ip}/24`]);
    }
    // Every agent lists all six, and pins the four remote MACs.
    await waitFor(async () => (await endpoints(lab, 3)).length === 6, 5000, 'endpoints everywhere');
    const fdb = (await lab.agents[0].call('fdb', { network: NET })) as { mac: string; flags: string[] }[];
    expect(fdb.filter((r) => r.flags.includes('static')).map((r) => r.mac).sort()).toEqual(eps.filter((e) => e.host !== 1).map((e) => e.mac).sort());
    await waitFor(() => eps.every((e) => eps.every((o) => hostsFile(e.ns).includes(`${o.ip}\t${o.label} ${o.label}.${NET}`))), 5000, 'hosts files');
    for (const from of eps) {
      for (const to of eps) {
        if (to === from) continue;
        expect(pingOk(from.ns, to.ip), `${from.label} -> ${to.label} by address`).toBe(true);
        expect(pingOk(from.ns, to.label), `${from.label} -> ${to.label} by name`).toBe(true);
      }
    }
    expect(from(eps, 'a1').ns.exec(['getent', 'hosts', `b2.${NET}`])).toContain(from(eps, 'b2').ip);
  }, 180_000);

  it('ARP for a known endpoint is answered locally (never crosses the underlay); ARP for an unknown address floods', async () => {
    const a1 = from(eps, 'a1');
    const b1 = from(eps, 'b1');
    const before = await suppressed(lab, 1);
    for (const e of [a1, b1]) e.ns.ip(['neigh', 'flush', 'all']);
    const pcap = join(lab.dir, 'u0.pcap');
    const cap = lab.topo.spawn(lab.topo.hostNs(1), ['tshark', '-i', 'u0', '-f', 'udp port 4789', '-w', pcap]);
    let err = '';
    cap.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await waitFor(() => /Capturing on/.test(err), 15_000, 'tshark to start');
    expect(pingOk(a1.ns, b1.ip, 2)).toBe(true);
    expect(pingOk(a1.ns, '10.77.0.200', 1)).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    const done = new Promise((r) => cap.once('exit', r));
    cap.kill('SIGINT');
    await done;
    const out = spawnSync('tshark', ['-r', pcap, '-d', 'udp.port==4789,vxlan', '-Y', 'arp.opcode == 1', '-T', 'fields', '-e', 'arp.dst.proto_ipv4'], { encoding: 'utf8' });
    const asked = out.stdout.split('\n').filter(Boolean);
    const icmp = spawnSync('tshark', ['-r', pcap, '-d', 'udp.port==4789,vxlan', '-Y', 'icmp', '-T', 'fields', '-e', 'ip.dst'], { encoding: 'utf8' });
    expect(icmp.stdout.split(/[\n,]/)).toContain(b1.ip); // the capture did see the overlay traffic (outer, inner)
    expect(asked.filter((ip) => ip === b1.ip)).toEqual([]);
    expect(asked.filter((ip) => ip === '10.77.0.200').length).toBeGreaterThan(0);
    expect(await suppressed(lab, 1)).toBeGreaterThan(before);
    const neigh = (await lab.agents[0].call('neighbors')) as { vni: number; ip: string; mac: string }[];
    expect(neigh).toContainEqual({ vni: VNI, ip: b1.ip, mac: b1.mac });
    expect(neigh.some((n) => n.ip === a1.ip)).toBe(false); // own endpoints are answered by themselves
  }, 60_000);

  it('refuses a taken or outside address, an unknown network, a missing namespace, a second attach: exit code, message, nothing changed', async () => {
    const spare = netns('spare');
    const snapshot = async () => ({ eps: JSON.stringify(await endpoints(lab, 1)), host: hostLinks(lab, 1), ns: links(spare.name) });
    const before = await snapshot();
    const a1 = from(eps, 'a1');
    const cases: [string[], number, RegExp][] = [
      [['--netns', spare.name, '--ip', from(eps, 'b1').ip], 1, new RegExp(`OVN_ERR_EXISTS: ${from(eps, 'b1').ip.replace(/\./g, '\\.')} is already in use in network "demo" by "b1"`)],
      [['--netns', spare.name, '--ip', '10.88.0.5'], 1, /OVN_ERR_INVALID: 10\.88\.0\.5 is outside network "demo"'s subnet 10\.77\.0\.0\/24/],
      [['--netns', spare.name, '--ip', '10.77.0.1'], 1, /OVN_ERR_INVALID: 10\.77\.0\.1 is reserved as the gateway address/],
      [['--netns', spare.name, '--ip', '10.77.0.255'], 1, /OVN_ERR_INVALID: 10\.77\.0\.255 is the broadcast address/],
      [['--netns', 'ovt-no-such-ns-x1'], 1, /OVN_ERR_NOT_FOUND: namespace "ovt-no-such-ns-x1" does not exist/],
      [['--pid', '999999999'], 1, /OVN_ERR_NOT_FOUND: pid 999999999 does not exist/],
      [['--netns', a1.ns.name], 1, /OVN_ERR_EXISTS: namespace ".*" is already attached to network "demo"/],
      [['--netns', spare.name, '--name', 'b1'], 1, /OVN_ERR_EXISTS: name "b1" is already used in network "demo"/],
      [[], 2, /OVN_ERR_USAGE: give exactly one of --netns NAME or --pid PID/],
    ];
    for (const [args, code, msg] of cases) {
      const r = attach(lab, 1, args);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.status, args.join(' ')).toBe(code);
      expect(r.stdout).toBe('');
    }
    const r = cli(lab, 1, ['attach', 'nosuch', '--netns', spare.name, ...sock(lab, 1)]);
    expect(r.stderr).toMatch(/OVN_ERR_NOT_FOUND: no network named "nosuch"/);
    expect(r.status).toBe(1);
    expect(await snapshot()).toEqual(before);
    expect(links(spare.name)).not.toMatch(/eth0/);
  }, 60_000);

  it('detach removes the veth, the address and the name; re-attach gets the address back and works', async () => {
    const a2 = from(eps, 'a2');
    const b1 = from(eps, 'b1');
    const d = cli(lab, 1, ['detach', NET, '--netns', a2.ns.name, ...sock(lab, 1)]);
    expect(d.stderr).toBe('');
    expect(d.status).toBe(0);
    expect(d.stdout).toContain(`(${a2.ip} freed)`);
    expect(links(a2.ns.name)).not.toMatch(/eth0/);
    expect(existsSync(join('/etc/netns', a2.ns.name, 'hosts'))).toBe(false);
    await waitFor(async () => (await endpoints(lab, 2)).every((e) => e.ip !== a2.ip), 5000, 'endpoint gone from the store');
    await waitFor(() => !hostsFile(b1.ns).includes('a2'), 5000, 'name gone from the other hosts files');
    expect(pingOk(b1.ns, a2.ip)).toBe(false);
    const again = cli(lab, 1, ['detach', NET, '--netns', a2.ns.name, ...sock(lab, 1)]);
    expect(again.stderr).toMatch(/OVN_ERR_NOT_FOUND: namespace ".*" is not attached to network "demo" on this host/);
    const r = attach(lab, 1, ['--netns', a2.ns.name], ['--name', 'a2']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).ip).toBe(a2.ip); // the lowest free address again
    await waitFor(() => hostsFile(b1.ns).includes(`${a2.ip}\ta2`), 5000, 'name back');
    expect(pingOk(b1.ns, 'a2')).toBe(true);
  }, 60_000);

  it('attaches a process by pid (a container without a named namespace)', async () => {
    const c = spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' });
    pids.push(c.pid!);
    await waitFor(() => readlinkNs(c.pid!) !== readlinkNs(process.pid), 5000, 'the process in its own namespace');
    const r = attach(lab, 2, ['--pid', String(c.pid)], ['--name', 'box']);
    expect(r.stderr).toBe('');
    const row = JSON.parse(r.stdout) as Row;
    expect(row).toMatchObject({ pid: c.pid, name: 'box', local: true });
    expect(pingOk(from(eps, 'a1').ns, row.ip)).toBe(true);
    await waitFor(() => hostsFile(from(eps, 'a1').ns).includes(`${row.ip}\tbox`), 5000, 'its name published');
    expect(pingOk(from(eps, 'a1').ns, 'box')).toBe(true);
    const d = cli(lab, 2, ['detach', NET, '--pid', String(c.pid), ...sock(lab, 2)]);
    expect(d.status).toBe(0);
    c.kill('SIGKILL');
  }, 60_000);

  it('20 concurrent attaches across three hosts get 20 distinct addresses', async () => {
    const before = (await endpoints(lab, 1)).length;
    const nss = Array.from({ length: 20 }, (_, i) => netns(`x${i}`));
    const results = await Promise.all(nss.map((ns, i) => cliAsync(lab, (i % 3) + 1, ['attach', NET, '--netns', ns.name, '--json', ...sock(lab, (i % 3) + 1)])));
    for (const r of results) expect(r.stderr).toBe('');
    const ips = results.map((r) => (JSON.parse(r.stdout) as Row).ip);
    expect(new Set(ips).size).toBe(20);
    const taken = new Set(eps.map((e) => e.ip));
    for (const ip of ips) expect(taken.has(ip)).toBe(false);
    await waitFor(async () => (await endpoints(lab, 3)).length === before + 20, 10_000, 'all 20 in the store');
    expect(pingOk(nss[0], ips[19])).toBe(true);
    const detached = await Promise.all(nss.map((ns, i) => cliAsync(lab, (i % 3) + 1, ['detach', NET, '--netns', ns.name, ...sock(lab, (i % 3) + 1)])));
    for (const r of detached) expect(r.status).toBe(0);
    await waitFor(async () => (await endpoints(lab, 3)).length === before, 10_000, 'all 20 gone');
  }, 120_000);

  it('a host whose agent restarts with its endpoints re-created (new MACs) is reachable again within 5 s, with no stale entry anywhere', async () => {
    const old = eps.filter((e) => e.host === 3).map((e) => ({ ...e }));
    lab.agents[2].kill();
    await lab.agents[2].exited;
    for (const e of old) e.ns.destroy(); // the host "rebooted": its namespaces and veths are gone
    lab.agents[2] = await startStoreAgent(lab, 3, store.url, ['--endpoint-grace', String(GRACE)], '');
    const fresh: Ep[] = [];
    for (const [k, e] of old.entries()) {
      const ns = netns(e.label);
      const r = attach(lab, 3, ['--netns', ns.name], ['--name', e.label, '--ip', `10.77.0.${150 + k}`]);
      expect(r.stderr).toBe('');
      const row = JSON.parse(r.stdout) as Row;
      expect(row.mac).not.toBe(e.mac);
      fresh.push({ ...e, ns, ip: row.ip, mac: row.mac });
    }
    const t0 = Date.now();
    const a1 = from(eps, 'a1');
    await waitFor(() => fresh.every((f) => pingOk(a1.ns, f.label) && pingOk(from(eps, 'b2').ns, f.ip)), 5000, 'new endpoints reachable by name and address');
    expect(Date.now() - t0).toBeLessThan(5000);
    for (const f of fresh) Object.assign(from(eps, f.label), f);
    // No stale pinned or neighbour entry for the old MACs or addresses on the other hosts.
    let seen = '';
    await waitFor(async () => {
      for (const h of [0, 1]) {
        const fdb = (await lab.agents[h].call('fdb', { network: NET })) as { mac: string; flags: string[] }[];
        const pinned = fdb.filter((r) => r.flags.includes('static')).map((r) => r.mac);
        const neigh = ((await lab.agents[h].call('neighbors')) as { ip: string; mac: string }[]);
        seen = JSON.stringify({ host: h + 1, pinned, neigh });
        if (old.some((o) => pinned.includes(o.mac) || neigh.some((n) => n.ip === o.ip || n.mac === o.mac))) return false;
        if (!fresh.every((f) => pinned.filter((m) => m === f.mac).length === 1 && neigh.filter((n) => n.ip === f.ip && n.mac === f.mac).length === 1)) return false;
      }
      return true;
    }, 5000, 'no stale entries').catch((e: Error) => { throw new Error(`${e.message}; old ${JSON.stringify(old.map((o) => [o.ip, o.mac]))}, new ${JSON.stringify(fresh.map((f) => [f.ip, f.mac]))}, last seen ${seen}`); });
    const now = (await endpoints(lab, 1)).map((r) => r.ip);
    for (const o of old) expect(now).not.toContain(o.ip); // the previous life's documents were released
  }, 90_000);

  it('endpoints of a host gone for good are reclaimed after TTL + grace; back, the host re-publishes those still free', async () => {
    const [b1, b2] = eps.filter((e) => e.host === 2);
    const hostId = (await lab.agents[1].status()).hostId;
    lab.agents[1].kill();
    await lab.agents[1].exited;
    const t0 = Date.now();
    await waitFor(async () => (await endpoints(lab, 1)).every((r) => r.host !== hostId), 25_000, 'reclaimed');
    // Registration TTL 5 s + grace 3 s, checked at least every 5 s.
    expect(Date.now() - t0).toBeGreaterThanOrEqual((5 + GRACE) * 1000 - 1500);
    // Meanwhile another endpoint takes b1's freed address.
    const thief = netns('thief');
    const t = attach(lab, 1, ['--netns', thief.name], ['--name', 'thief', '--ip', b1.ip]);
    expect(t.stderr).toBe('');
    lab.agents[1] = await startStoreAgent(lab, 2, store.url, ['--endpoint-grace', String(GRACE)]);
    await waitFor(() => !/eth0/.test(links(b1.ns.name)), 10_000, 'b1, whose address is taken, detached');
    await waitFor(async () => (await endpoints(lab, 1)).some((r) => r.ip === b2.ip && r.host === hostId), 10_000, 'b2 published again');
    expect(links(b2.ns.name)).toMatch(/eth0/);
    await waitFor(() => pingOk(from(eps, 'a1').ns, 'b2'), 5000, 'b2 reachable by name');
    expect(pingOk(from(eps, 'a1').ns, 'thief')).toBe(true);
    expect(cli(lab, 1, ['detach', NET, '--netns', thief.name, ...sock(lab, 1)]).status).toBe(0);
    const r = attach(lab, 2, ['--netns', b1.ns.name], ['--name', 'b1']);
    expect(r.stderr).toBe('');
    Object.assign(b1, { ip: (JSON.parse(r.stdout) as Row).ip, mac: (JSON.parse(r.stdout) as Row).mac });
    await waitFor(() => pingOk(from(eps, 'a1').ns, 'b1'), 5000, 'b1 reachable again');
  }, 90_000);

  it('rm refuses a network with endpoints; rm --force detaches them everywhere', async () => {
    const r = cli(lab, 1, ['rm', NET, '--store', store.url]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/OVN_ERR_EXISTS: network "demo" still has 6 endpoint\(s\)/);
    expect((await endpoints(lab, 1)).length).toBe(6);
    const f = cli(lab, 1, ['rm', NET, '--force', '--store', store.url]);
    expect(f.stderr).toBe('');
    expect(f.status).toBe(0);
    await waitFor(() => eps.every((e) => !/eth0/.test(links(e.ns.name))), 10_000, 'veths removed from every endpoint');
    await waitFor(() => eps.every((e) => !existsSync(join('/etc/netns', e.ns.name, 'hosts'))), 5000, 'hosts files removed');
    await waitFor(() => [1, 2, 3].every((h) => !/ovv[0-9a-f]{12}|ovbr-42/.test(hostLinks(lab, h))), 10_000, 'host sides and bridges gone');
    for (const h of [1, 2, 3]) expect(await endpoints(lab, h)).toEqual([]);
  }, 60_000);
});

function from(eps: Ep[], label: string): Ep {
  const e = eps.find((x) => x.label === label);
  if (!e) throw new Error(`no endpoint ${label}`);
  return e;
}

async function suppressed(lab: Lab, host: number): Promise<number> {
  const st = await lab.agents[host - 1].status();
  return st.networks.find((n) => n.vni === VNI)!.counters.arp_suppressed;
}

function readlinkNs(pid: number): string {
  return spawnSync('readlink', [`/proc/${pid}/ns/net`], { encoding: 'utf8' }).stdout.trim();
}
