/**
 * Names for endpoints: a hosts file per attached network namespace, kept current by the agent
 * (COLD PATH). `ip netns exec NS` bind-mounts every file of /etc/netns/NS/ over /etc/, so a
 * process started that way resolves the names of its networks' endpoints through the ordinary
 * resolver (getent, ping, curl) with no DNS server to run, and nothing listening inside the
 * namespace.
 *
 * Why not a DNS responder: it would need a listener in every endpoint's namespace (or a route to
 * one) and a resolv.conf there anyway; a hosts file needs neither, and updates are atomic enough
 * for names that change only on attach and detach.
 *
 * The agent owns only a marked block of the file; lines outside it (written by the operator)
 * are kept. A file the agent creates starts with localhost entries, since it hides /etc/hosts
 * entirely. Writes keep the file's inode (truncate and write, not rename): a process started
 * earlier with `ip netns exec` holds a bind mount of that inode and sees updates too.
 *
 * Limits: only processes started through `ip netns exec` (or tools that do the same bind mount)
 * see the file; a container attached by --pid has its own mount namespace and /etc/hosts, which
 * the agent does not touch (its runtime owns it); such endpoints are still published, so others
 * resolve THEIR names.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_NETNS_ETC = '/etc/netns';
export const BEGIN_MARK = '# BEGIN ovnetd: endpoint names, kept current by the ovnetd agent; edits inside are lost';
export const END_MARK = '# END ovnetd';
/** What a hosts file needs when it replaces /etc/hosts. */
export const BASE_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';

export interface HostsEntry {
  ip: string;
  /** First name, then aliases. */
  names: string[];
}

/** The managed block for these entries (sorted, deterministic). */
export function renderBlock(entries: HostsEntry[]): string {
  const lines = [...entries]
    .filter((e) => e.names.length > 0)
    .sort((a, b) => (a.names[0] < b.names[0] ? -1 : a.names[0] > b.names[0] ? 1 : a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0))
    .map((e) => `${e.ip}\t${e.names.join(' ')}`);
  return [BEGIN_MARK, ...lines, END_MARK].join('\n') + '\n';
}

/** `text` without the managed block (and without a trailing blank line it left). */
export function stripBlock(text: string): string {
  const start = text.indexOf(BEGIN_MARK);
  if (start < 0) return text;
  const endAt = text.indexOf(END_MARK, start);
  const end = endAt < 0 ? text.length : text.indexOf('\n', endAt) < 0 ? text.length : text.indexOf('\n', endAt) + 1;
  return text.slice(0, start) + text.slice(end);
}

/** The file with its block replaced by one for `entries` (a missing file starts from BASE_HOSTS). */
export function mergeHosts(existing: string | undefined, entries: HostsEntry[]): string {
  const rest = existing === undefined ? BASE_HOSTS : stripBlock(existing);
  const sep = rest === '' || rest.endsWith('\n') ? '' : '\n';
  return rest + sep + renderBlock(entries);
}

/** Hosts files of named namespaces under one etc/netns directory. */
export class HostsFiles {
  readonly dir: string;
  /** Last content written per namespace, so unchanged files are not rewritten. */
  readonly #written = new Map<string, string>();

  constructor(dir = DEFAULT_NETNS_ETC) {
    this.dir = dir;
  }

  pathOf(netns: string): string {
    return join(this.dir, netns, 'hosts');
  }

  /** Writes the block for `entries`; returns whether the file changed. */
  write(netns: string, entries: HostsEntry[]): boolean {
    const path = this.pathOf(netns);
    const existing = readOrUndefined(path);
    const next = mergeHosts(existing, entries);
    if (existing === next) {
      this.#written.set(netns, next);
      return false;
    }
    mkdirSync(join(this.dir, netns), { recursive: true });
    writeFileSync(path, next);
    this.#written.set(netns, next);
    return true;
  }

  /** Whether `write` would change nothing we know of (cheap check for the sync loop). */
  unchanged(netns: string, entries: HostsEntry[]): boolean {
    const last = this.#written.get(netns);
    return last !== undefined && stripBlock(last) + renderBlock(entries) === last;
  }

  /** Removes the block; deletes the file (and its directory, if empty) when only what we added is left. */
  remove(netns: string): void {
    this.#written.delete(netns);
    const path = this.pathOf(netns);
    const existing = readOrUndefined(path);
    if (existing === undefined) return;
    const rest = stripBlock(existing);
    if (rest !== BASE_HOSTS && rest.trim() !== '') {
      if (rest !== existing) writeFileSync(path, rest);
      return;
    }
    unlinkSync(path);
    const dir = join(this.dir, netns);
    try {
      if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
    } catch { /* someone else's files appeared: leave the directory */ }
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
