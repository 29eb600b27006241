/**
 * A throw-away etcd for tests: finds the binary ($ETCD_BIN, /usr/bin/etcd, or PATH), runs it
 * on 127.0.0.1 with random client/peer ports and a temp data dir, waits for /health, and kills
 * it by PID (also on process exit). restart() keeps ports and data, as a real reboot would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.pid && c.exitCode === null) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
});

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The etcd binary, or undefined when none is installed. $ETCD_BIN, when set, is the only candidate. */
export function findEtcd(): string | undefined {
  if (process.env.ETCD_BIN) return executable(process.env.ETCD_BIN) ? process.env.ETCD_BIN : undefined;
  const candidates = ['/usr/bin/etcd', '/usr/local/bin/etcd',
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'etcd'))];
  return candidates.find(executable);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class EtcdProcess {
  #child: ChildProcess | undefined;
  #output = '';

  private constructor(readonly bin: string, readonly dataDir: string, readonly clientPort: number, readonly peerPort: number) {}

  static async start(bin: string): Promise<EtcdProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'ovn-etcd-'));
    const e = new EtcdProcess(bin, dir, await freePort(), await freePort());
    await e.#spawn();
    return e;
  }

  get url(): string {
    return `etcd://127.0.0.1:${this.clientPort}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async #spawn(): Promise<void> {
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const child = spawn(this.bin, [
      '--name', 'ovntest', '--data-dir', join(this.dataDir, 'data'),
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `ovntest=${peer}`, '--initial-cluster-state', 'new',
      '--initial-cluster-token', `ovntest-${randomBytes(4).toString('hex')}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    const keep = (b: Buffer): void => { this.#output = (this.#output + b.toString()).slice(-4000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await this.#waitHealthy(client, 30_000);
  }

  async #waitHealthy(client: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#child?.exitCode !== null) throw new Error(`etcd exited (${this.#child?.exitCode}):\n${this.#output}`);
      try {
        const res = await fetch(`${client}/health`);
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd did not become healthy within ${timeoutMs} ms:\n${this.#output}`);
  }

  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => { if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL'); }, 5_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
