/** `ovnetd lab up`: build the lab, start store and agents, create a network, attach, measure. */
import { accessSync, constants, mkdirSync, existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OvnError } from '../lib/errors.js';
import { callAgent } from '../daemon/control-socket.js';
import type { AgentStatus } from '../daemon/agent-api.js';
import { OVNETD_BIN } from './agent-process.js';
import { run } from './topology.js';
import {
  LAB_DIR, LAB_SUBNET, LAB_VNI, labAgentSocket, labDown, labNamespaces, labTopology, spawnDetached, writeLabState, type LabState,
} from './lab.js';

export interface LabUpOptions {
  hosts: number;
  store: 'embedded' | 'etcd';
  progress(line: string): void;
  dir?: string;
}

export interface LabReport {
  state: LabState;
  pings: { from: string; to: string; ok: boolean; rttMs?: number }[];
  throughput?: { gbps: number; tool: string } | { skipped: string };
}

function which(cmd: string): string | undefined {
  try { return execFileSync('which', [cmd], { encoding: 'utf8' }).trim() || undefined; } catch { return undefined; }
}

function preflight(opts: LabUpOptions): void {
  if (process.getuid?.() !== 0) throw new OvnError('OVN_ERR_PERMISSION', 'the lab makes network namespaces: run it as root (sudo ovnetd lab up)');
  if (!which('ip')) throw new OvnError('OVN_ERR_CONFIG', 'iproute2 (`ip`) is not installed: apt-get install iproute2');
  try { accessSync('/dev/net/tun', constants.R_OK | constants.W_OK); } catch { throw new OvnError('OVN_ERR_DEVICE', '/dev/net/tun is missing: load the tun module (modprobe tun)'); }
  if (opts.store === 'etcd' && !which('etcd')) throw new OvnError('OVN_ERR_CONFIG', 'etcd is not installed: apt-get install etcd-server (or use --store embedded)');
  if (!Number.isInteger(opts.hosts) || opts.hosts < 2 || opts.hosts > 9) throw new OvnError('OVN_ERR_USAGE', `--hosts must be 2-9, got ${opts.hosts}`);
  if (labNamespaces().length) throw new OvnError('OVN_ERR_EXISTS', 'a lab is already up (ovnetd lab status); remove it with: ovnetd lab down');
}

/** Runs `ovnetd ARGS` inside a lab namespace. */
function ovnetdIn(ns: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, OVNETD_BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try { const v = await fn(); if (v !== undefined) return v; } catch (e) { last = e; }
    if (Date.now() > end) throw new OvnError('OVN_ERR_INTERNAL', `timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function labUp(opts: LabUpOptions): Promise<LabReport> {
  preflight(opts);
  const dir = opts.dir ?? LAB_DIR;
  mkdirSync(dir, { recursive: true });
  const state: LabState = { version: 1, hosts: opts.hosts, store: opts.store, storeUrl: '', pids: [], endpoints: [] };
  try {
    return await build(opts, dir, state);
  } catch (e) {
    opts.progress(`failed: ${(e as Error).message}`);
    opts.progress('removing what was made ...');
    await labDown(dir);
    throw e;
  }
}

async function build(opts: LabUpOptions, dir: string, state: LabState): Promise<LabReport> {
  const step = (n: number, msg: string) => opts.progress(`[${n}/7] ${msg}`);
  step(1, `namespaces: ${opts.hosts} hosts on an underlay switch`);
  const topo = labTopology(opts.hosts).create();
  writeLabState(state, dir);
  const h1 = topo.hosts[0];

  step(2, `store (${opts.store}) on ${h1.ns} ${h1.underlayIp}`);
  startStore(opts.store, h1.ns, h1.underlayIp, dir, state);
  writeLabState(state, dir);
  await until('the store', 20_000, () => (ovnetdIn(h1.ns, ['ls', '--store', state.storeUrl]).ok ? true : undefined));

  step(3, `agents on ${topo.hosts.map((h) => h.ns).join(', ')}`);
  for (const h of topo.hosts) {
    const hd = join(dir, `h${h.index}`);
    mkdirSync(hd, { recursive: true });
    const pid = spawnDetached(h.ns, [process.execPath, OVNETD_BIN, 'agent', '--store', state.storeUrl, '--advertise', h.underlayIp,
      '--state-dir', join(hd, 'state'), '--control-socket', labAgentSocket(h.index, dir), '--metrics', '127.0.0.1:9474'], join(hd, 'agent.log'));
    state.pids.push({ name: `agent-h${h.index}`, pid });
  }
  writeLabState(state, dir);
  for (const h of topo.hosts) {
    await until(`the agent on ${h.ns} (log: ${join(dir, `h${h.index}`, 'agent.log')})`, 20_000, () => callAgent(labAgentSocket(h.index, dir), 'status', {}, 2000));
  }

  step(4, `network "demo": VNI ${LAB_VNI}, subnet ${LAB_SUBNET}`);
  const created = ovnetdIn(h1.ns, ['create', 'demo', '--subnet', LAB_SUBNET, '--vni', String(LAB_VNI), '--store', state.storeUrl]);
  if (!created.ok) throw new OvnError('OVN_ERR_INTERNAL', `ovnetd create failed: ${created.out}`);
  for (const h of topo.hosts) {
    await until(`network devices on ${h.ns}`, 10_000, async () => {
      const s = (await callAgent(labAgentSocket(h.index, dir), 'status', {}, 2000)) as AgentStatus;
      return s.networks.some((n) => n.vni === LAB_VNI) && s.peers === opts.hosts - 1 ? true : undefined;
    });
  }

  step(5, 'endpoints: one namespace per host');
  for (const h of topo.hosts) {
    const ep = attachEndpoint(topo, h.index, dir);
    state.endpoints.push(ep);
  }
  writeLabState(state, dir);

  step(6, 'ping matrix');
  const pings = pingMatrix(state);
  step(7, 'throughput e1 -> e2');
  const throughput = measure(state, dir);
  return { state, pings, throughput };
}

/** The command line of a lab store serving on `ip` (clients on the underlay, etcd peers on loopback). */
export function storeCommand(kind: 'embedded' | 'etcd', ip: string, dataDir: string): { url: string; argv: string[] } {
  if (kind === 'embedded') {
    return { url: `consul://${ip}:8500`, argv: [process.execPath, OVNETD_BIN, 'store', 'serve', '--listen', `${ip}:8500`, '--data', dataDir] };
  }
  return {
    url: `etcd://${ip}:2379`,
    argv: ['etcd', '--name', 'lab', '--data-dir', dataDir, '--listen-client-urls', `http://${ip}:2379`,
      '--advertise-client-urls', `http://${ip}:2379`, '--listen-peer-urls', 'http://127.0.0.1:2380',
      '--initial-advertise-peer-urls', 'http://127.0.0.1:2380', '--initial-cluster', 'lab=http://127.0.0.1:2380'],
  };
}

function startStore(kind: 'embedded' | 'etcd', ns: string, ip: string, dir: string, state: LabState): void {
  const data = join(dir, kind === 'embedded' ? 'store' : 'etcd');
  mkdirSync(data, { recursive: true });
  const { url, argv } = storeCommand(kind, ip, data);
  state.storeUrl = url;
  state.pids.push({ name: kind === 'embedded' ? 'store' : 'etcd', pid: spawnDetached(ns, argv, join(dir, `${kind}.log`)) });
}

function attachEndpoint(topo: ReturnType<typeof labTopology>, host: number, dir: string): { ns: string; host: number; ip: string } {
  const ns = `${topo.prefix}-e${host}`;
  run(['ip', 'netns', 'add', ns]);
  run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  // Through the agent, as a user would: the address comes from the cluster-wide IPAM.
  const r = spawnSync(process.execPath, [OVNETD_BIN, 'attach', 'demo', '--netns', ns, '--name', `e${host}`, '--control-socket', labAgentSocket(host, dir), '--json'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new OvnError('OVN_ERR_INTERNAL', `ovnetd attach failed: ${r.stderr.trim()}`);
  return { ns, host, ip: (JSON.parse(r.stdout) as { ip: string }).ip };
}

function pingMatrix(state: LabState): LabReport['pings'] {
  const out: LabReport['pings'] = [];
  for (const a of state.endpoints) {
    for (const b of state.endpoints) {
      if (a === b) continue;
      const r = spawnSync('ip', ['netns', 'exec', a.ns, 'ping', '-c', '2', '-i', '0.2', '-W', '2', b.ip], { encoding: 'utf8', timeout: 15_000 });
      const m = /rtt [^=]+= [\d.]+\/([\d.]+)\//.exec(r.stdout);
      out.push({ from: a.ns, to: b.ip, ok: r.status === 0, rttMs: m ? Number(m[1]) : undefined });
    }
  }
  return out;
}

function measure(state: LabState, dir: string): LabReport['throughput'] {
  if (!which('iperf3')) return { skipped: 'iperf3 is not installed (apt-get install iperf3)' };
  const [a, b] = state.endpoints;
  const srv = spawnSync('ip', ['netns', 'exec', b.ns, 'iperf3', '-s', '-D', '-1', '-I', join(dir, 'iperf3.pid')], { encoding: 'utf8' });
  if (srv.status !== 0) return { skipped: `iperf3 server failed: ${srv.stderr.trim()}` };
  spawnSync('sleep', ['0.5']);
  const r = spawnSync('ip', ['netns', 'exec', a.ns, 'iperf3', '-c', b.ip, '-t', '3', '-J'], { encoding: 'utf8', timeout: 30_000 });
  if (existsSync(join(dir, 'iperf3.pid'))) spawnSync('pkill', ['-F', join(dir, 'iperf3.pid')]);
  try {
    return { gbps: (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9, tool: 'iperf3 TCP, 3 s' };
  } catch {
    return { skipped: `iperf3 failed: ${r.stderr.trim() || r.stdout.slice(0, 200)}` };
  }
}
