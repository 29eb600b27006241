/** Namespace-test helpers for agents that find each other through a store (embedded or etcd). */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { spawnSync, type ChildProcess, execFileSync } from 'node:child_process';
import { OVNETD_BIN, startAgent, type AgentProcess } from '../../src/lab/agent-process.js';
import type { Lab } from './lab.js';
import { waitFor } from './netns.js';

export interface StoreProcess { url: string; child: ChildProcess; stop(): Promise<void>; restart(): Promise<void> }

async function waitHttp(lab: Lab, host: number, url: string): Promise<void> {
  await waitFor(() => {
    const r = spawnSync('ip', ['netns', 'exec', lab.topo.hostNs(host), process.execPath, '-e',
      `fetch(${JSON.stringify(url)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`], { timeout: 5000 });
    return r.status === 0;
  }, 15_000, `store at ${url}`);
}

/** The embedded store served from host `host` of the lab, on its underlay address. */
export async function startEmbeddedStore(lab: Lab, host: number): Promise<StoreProcess> {
  const ip = lab.topo.hosts[host - 1].underlayIp;
  const data = join(lab.dir, 'store');
  const spawnIt = () => lab.topo.spawn(lab.topo.hostNs(host), [process.execPath, OVNETD_BIN, 'store', 'serve', '--listen', `${ip}:8500`, '--data', data, '--log-level', 'warn']);
  const s: StoreProcess = {
    url: `consul://${ip}:8500`,
    child: spawnIt(),
    async stop() { await killWait(s.child); },
    async restart() { s.child = spawnIt(); await waitHttp(lab, host, `http://${ip}:8500/v1/status/leader`); },
  };
  await waitHttp(lab, host, `http://${ip}:8500/v1/status/leader`);
  return s;
}

export function etcdBinary(): string | undefined {
  try { return execFileSync('which', ['etcd'], { encoding: 'utf8' }).trim() || undefined; } catch { return undefined; }
}

/** A real etcd server in host `host`'s namespace, clients on its underlay address. */
export async function startEtcd(lab: Lab, host: number): Promise<StoreProcess> {
  const bin = etcdBinary();
  if (!bin) throw new Error('etcd is not installed (apt-get install etcd-server)');
  const ip = lab.topo.hosts[host - 1].underlayIp;
  const data = join(lab.dir, 'etcd');
  mkdirSync(data, { recursive: true });
  const spawnIt = () => lab.topo.spawn(lab.topo.hostNs(host), [bin, '--name', 'lab', '--data-dir', data,
    '--listen-client-urls', `http://${ip}:2379`, '--advertise-client-urls', `http://${ip}:2379`,
    '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', 'lab=http://127.0.0.1:2380', '--log-level', 'error']);
  const s: StoreProcess = {
    url: `etcd://${ip}:2379`,
    child: spawnIt(),
    async stop() { await killWait(s.child); },
    async restart() { s.child = spawnIt(); await waitHttp(lab, host, `http://${ip}:2379/health`); },
  };
  await waitHttp(lab, host, `http://${ip}:2379/health`);
  return s;
}

async function killWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await done;
}

/** Runs an ovnetd CLI command inside a lab host namespace. */
export function cli(lab: Lab, host: number, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', lab.topo.hostNs(host), process.execPath, OVNETD_BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export async function startStoreAgent(lab: Lab, host: number, storeUrl: string, extra: string[] = [], tag = ''): Promise<AgentProcess> {
  return startAgent(lab.topo, host, {
    dir: join(lab.dir, `h${host}${tag}`),
    args: ['--store', storeUrl, '--advertise', lab.topo.hosts[host - 1].underlayIp, '--log-level', 'warn', '--registration-ttl', '5', ...extra],
  });
}
