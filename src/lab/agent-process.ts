/** Starts `ovnetd agent` inside a lab host namespace and waits until its control socket answers. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { OvnError } from '../lib/errors.js';
import { callAgent } from '../daemon/control-socket.js';
import type { AgentStatus } from '../daemon/agent-api.js';
import type { Topology } from './topology.js';

/** bin/ovnetd.js of this package, whether running from src/ (tests) or dist/. */
export const OVNETD_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/ovnetd.js');

export class AgentProcess {
  readonly child: ChildProcess;
  readonly socket: string;
  readonly dir: string;
  #log = '';
  exitCode: number | null = null;
  readonly exited: Promise<number | null>;

  constructor(child: ChildProcess, dir: string) {
    this.child = child;
    this.dir = dir;
    this.socket = join(dir, 'ovnetd.sock');
    child.stdout?.on('data', (d: Buffer) => { this.#log += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { this.#log += d.toString(); });
    this.exited = new Promise((r) => child.once('exit', (code, sig) => { this.exitCode = code ?? (sig ? 128 : null); r(this.exitCode); }));
  }

  get output(): string {
    return this.#log;
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    return callAgent(this.socket, method, params, 5000);
  }

  status(): Promise<AgentStatus> {
    return this.call('status') as Promise<AgentStatus>;
  }

  /** SIGTERM and wait; returns the exit code. */
  async stop(timeoutMs = 5000): Promise<number | null> {
    if (this.exitCode !== null || this.child.exitCode !== null) return this.exitCode ?? this.child.exitCode;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

export interface StartAgentOptions {
  /** Working directory for the config, state and socket of this agent. */
  dir: string;
  config?: Record<string, unknown>;
  args?: string[];
  readyTimeoutMs?: number;
  env?: Record<string, string>;
}

export async function startAgent(topo: Topology, host: number, opts: StartAgentOptions): Promise<AgentProcess> {
  mkdirSync(opts.dir, { recursive: true });
  const args = [OVNETD_BIN, 'agent', '--state-dir', join(opts.dir, 'state'), '--control-socket', join(opts.dir, 'ovnetd.sock'), '--metrics', 'off'];
  if (opts.config) {
    const file = join(opts.dir, 'config.json');
    writeFileSync(file, JSON.stringify(opts.config, null, 2));
    args.push('--config', file);
  }
  args.push(...(opts.args ?? []));
  // OVNETD_TEST_ARGS (e.g. "--no-offload") reaches every agent a test or benchmark starts.
  args.push(...(process.env.OVNETD_TEST_ARGS ?? '').split(/\s+/).filter(Boolean));
  const child = topo.spawn(topo.hostNs(host), [process.execPath, ...args], { env: { ...process.env, ...opts.env } });
  const agent = new AgentProcess(child, opts.dir);
  await waitReady(agent, opts.readyTimeoutMs ?? 15_000);
  return agent;
}

export async function waitReady(agent: AgentProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (agent.exitCode !== null || agent.child.exitCode !== null) {
      throw new OvnError('OVN_ERR_INTERNAL', `agent exited (${agent.child.exitCode}) before it was ready:\n${agent.output.slice(-2000)}`);
    }
    try {
      await agent.status();
      return;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new OvnError('OVN_ERR_INTERNAL', `agent not ready after ${timeoutMs} ms:\n${agent.output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
