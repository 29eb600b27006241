/**
 * Network namespaces for tests: unique names, every command as an argv array (never a shell),
 * and cleanup that runs even when a test fails or the process is interrupted.
 * Traffic stays inside namespaces the test made; the root namespace only ever holds veth ends
 * for the instant before they are moved into a test namespace.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const made = new Set<string>();
const children = new Set<ChildProcess>();

function cleanupAll(): void {
  for (const c of children) if (c.exitCode === null && c.pid) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
  children.clear();
  for (const ns of made) { try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone */ } }
  made.clear();
}
process.once('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { cleanupAll(); process.exit(130); });

/** A short unique tag; interface names are limited to 15 characters. */
export function uniq(): string {
  return randomBytes(3).toString('hex');
}

export function sh(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  return execFileSync(argv[0], argv.slice(1), {
    encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 30_000, stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export class Netns {
  readonly name: string;
  constructor(label: string) {
    this.name = `ovt-${label}-${uniq()}`;
    sh(['ip', 'netns', 'add', this.name]);
    made.add(this.name);
    this.ip(['link', 'set', 'lo', 'up']);
  }
  /** Runs a command inside the namespace and returns stdout; throws with stderr on failure. */
  exec(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
    return sh(['ip', 'netns', 'exec', this.name, ...argv], opts);
  }
  ip(args: string[]): string {
    return sh(['ip', '-n', this.name, ...args]);
  }
  /** Starts a long-running process inside the namespace; it is killed at cleanup. */
  spawn(argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }
  destroy(): void {
    try { sh(['ip', 'netns', 'del', this.name]); } catch { /* already gone */ }
    made.delete(this.name);
  }
}

/** A veth pair with one end in each namespace, addressed and up. */
export function vethPair(a: Netns, aAddr: string, b: Netns, bAddr: string, opts: { mtu?: number } = {}): { aIf: string; bIf: string } {
  const t = uniq();
  const aIf = `ova${t}`;
  const bIf = `ovb${t}`;
  sh(['ip', 'link', 'add', aIf, 'netns', a.name, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name]);
  for (const [ns, ifn, addr] of [[a, aIf, aAddr], [b, bIf, bAddr]] as const) {
    if (opts.mtu) ns.ip(['link', 'set', ifn, 'mtu', String(opts.mtu)]);
    if (addr) ns.ip(['addr', 'add', addr, 'dev', ifn]);
    ns.ip(['link', 'set', ifn, 'up']);
  }
  return { aIf, bIf };
}

/** Kills what was started and removes every namespace made by this process. */
export function cleanupNetns(): void {
  cleanupAll();
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { if (await cond()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
