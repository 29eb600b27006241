/**
 * `ovnetd lab`: a whole overlay on one machine, built from network namespaces.
 *
 *   ovlab-e1            ovlab-e2            ovlab-eN          endpoints (10.99.0.x)
 *      |                   |                   |
 *   ovlab-h1 (store)    ovlab-h2            ovlab-hN          hosts: agent, ovbr-VNI, ovtap-VNI
 *      | 192.168.77.1      | .2                | .N
 *   -------------------- ovlab-sw: bridge sw0 --------------  underlay
 *
 * Processes are started detached with their PIDs and logs under the lab's run directory, so
 * `lab down` works after the command that built the lab has gone, and after a lab whose
 * processes were killed. The root namespace's addresses and routes are never touched.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, rmSync, existsSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { OvnError } from '../lib/errors.js';
import { callAgent } from '../daemon/control-socket.js';
import type { AgentStatus } from '../daemon/agent-api.js';
import { OVNETD_BIN } from './agent-process.js';
import { Topology, run } from './topology.js';

export const LAB_PREFIX = 'ovlab';
export const LAB_DIR = '/run/ovnetd-lab';
export const LAB_VNI = 4242;
export const LAB_SUBNET = '10.99.0.0/24';

export interface LabState {
  version: 1;
  hosts: number;
  store: 'embedded' | 'etcd';
  storeUrl: string;
  pids: { name: string; pid: number }[];
  endpoints: { ns: string; host: number; ip: string }[];
}

export function labStatePath(dir = LAB_DIR): string {
  return join(dir, 'state.json');
}

export function readLabState(dir = LAB_DIR): LabState | undefined {
  try {
    return JSON.parse(readFileSync(labStatePath(dir), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function writeLabState(s: LabState, dir = LAB_DIR): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(labStatePath(dir), JSON.stringify(s, null, 2));
}

export function labNamespaces(): string[] {
  let out = '';
  try { out = run(['ip', '-j', 'netns', 'list']); } catch { return []; }
  const list = out.trim() ? (JSON.parse(out) as { name: string }[]) : [];
  return list.map((n) => n.name).filter((n) => n.startsWith(`${LAB_PREFIX}-`));
}

/** True when `pid` is a process we started: its command line names ovnetd or etcd. */
function isLabProcess(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /ovnetd|etcd/.test(cmd);
  } catch {
    return false;
  }
}

/** Starts a detached process in a namespace, its output appended to a log file. */
export function spawnDetached(ns: string, argv: string[], log: string): number {
  const fd = openSync(log, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    if (!child.pid) throw new OvnError('OVN_ERR_INTERNAL', `could not start ${argv[0]} in ${ns}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export async function stopPids(pids: { name: string; pid: number }[]): Promise<void> {
  const alive = pids.filter((p) => isLabProcess(p.pid));
  for (const p of alive) { try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ } }
  const end = Date.now() + 5000;
  while (alive.some((p) => isLabProcess(p.pid)) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  for (const p of alive) if (isLabProcess(p.pid)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
}

/** Removes everything a lab made. Safe to run twice, and after its processes were killed. */
export async function labDown(dir = LAB_DIR): Promise<{ namespaces: string[]; processes: number }> {
  const state = readLabState(dir);
  const pids = state?.pids ?? [];
  await stopPids(pids);
  const namespaces = labNamespaces();
  for (const ns of namespaces) { try { run(['ip', 'netns', 'del', ns]); } catch { /* already gone */ } }
  // Hosts files the agents kept for the endpoints (`ip netns exec` reads /etc/netns/<ns>/hosts).
  for (const d of existsSync('/etc/netns') ? readdirSync('/etc/netns') : []) {
    if (d.startsWith(`${LAB_PREFIX}-`)) rmSync(join('/etc/netns', d), { recursive: true, force: true });
  }
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return { namespaces, processes: pids.length };
}

export function labAgentSocket(host: number, dir = LAB_DIR): string {
  return join(dir, `h${host}`, 'ovnetd.sock');
}

export async function labStatus(dir = LAB_DIR): Promise<{ state?: LabState; namespaces: string[]; agents: { host: number; status?: AgentStatus; error?: string }[] }> {
  const state = readLabState(dir);
  const agents = [];
  for (let h = 1; h <= (state?.hosts ?? 0); h++) {
    try {
      agents.push({ host: h, status: (await callAgent(labAgentSocket(h, dir), 'status', {}, 3000)) as AgentStatus });
    } catch (e) {
      agents.push({ host: h, error: (e as Error).message });
    }
  }
  return { state, namespaces: labNamespaces(), agents };
}

export function labTopology(hosts: number): Topology {
  return new Topology(LAB_PREFIX, { hosts });
}
