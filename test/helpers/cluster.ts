/** Namespace-test helpers for agents that find each other through a store (embedded or etcd). */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { spawnSync, type ChildProcess, execFileSync } from 'node:child_process';
import { OVNETD_BIN, startAgent, type AgentProcess } from '../../src/lab/agent-process.js';
import { storeCommand } from '../../src/lab/lab-up.js';
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
  const cmd = storeCommand('embedded', ip, data);
  const spawnIt = () => lab.topo.spawn(lab.topo.hostNs(host), [...cmd.argv, '--log-level', 'warn']);
  const s: StoreProcess = {
    url: cmd.url,
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
  const cmd = storeCommand('etcd', ip, data);
  const spawnIt = () => lab.topo.spawn(lab.topo.hostNs(host), [bin, ...cmd.argv.slice(1), '--log-level', 'error']);
  const s: StoreProcess = {
    url: cmd.url,
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
