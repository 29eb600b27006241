/**
 * What this agent attached, kept in its state directory (endpoints.json): the part of an
 * endpoint the store does not hold, namely where it lives on this host (namespace or pid,
 * interface name, host-side veth). With it, detach finds its endpoint by namespace, and an
 * agent restarted (or a host rebooted) can tell which of its endpoints still exist.
 * Written to a temporary file renamed into place, so a crash never leaves half a file.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../lib/log.js';

/** A named network namespace (/var/run/netns/NAME) or the pid of a process inside one. */
export type EndpointTarget = { netns: string; pid?: undefined } | { pid: number; netns?: undefined };

export interface EndpointRecord {
  network: string;
  vni: number;
  /** Canonical address. */
  ip: string;
  prefix: number;
  mac: string;
  name?: string;
  target: EndpointTarget;
  ifname: string;
  /** Host side of the veth pair, a port of ovbr-<vni>. */
  hostIf: string;
  attachedAt: string;
}

export function sameTarget(a: EndpointTarget, b: EndpointTarget): boolean {
  return a.netns !== undefined ? a.netns === b.netns : a.pid === b.pid;
}

export function describeTarget(t: EndpointTarget): string {
  return t.netns !== undefined ? `namespace "${t.netns}"` : `pid ${t.pid}`;
}

export function recordKey(r: { network: string; ip: string }): string {
  return `${r.network}/${r.ip}`;
}

export class EndpointRecords {
  readonly file: string;
  readonly #log: Logger;
  readonly #byKey = new Map<string, EndpointRecord>();

  constructor(stateDir: string, log: Logger) {
    this.file = join(stateDir, 'endpoints.json');
    this.#log = log;
    this.#load();
  }

  all(): EndpointRecord[] {
    return [...this.#byKey.values()];
  }

  get(network: string, ip: string): EndpointRecord | undefined {
    return this.#byKey.get(recordKey({ network, ip }));
  }

  find(network: string, target: EndpointTarget): EndpointRecord | undefined {
    return this.all().find((r) => r.network === network && sameTarget(r.target, target));
  }

  /** Named namespaces that have at least one endpoint. */
  namespaces(): string[] {
    return [...new Set(this.all().flatMap((r) => (r.target.netns !== undefined ? [r.target.netns] : [])))];
  }

  add(r: EndpointRecord): void {
    this.#byKey.set(recordKey(r), r);
    this.#save();
  }

  remove(network: string, ip: string): boolean {
    const had = this.#byKey.delete(recordKey({ network, ip }));
    if (had) this.#save();
    return had;
  }

  #load(): void {
    let data: { version?: number; endpoints?: EndpointRecord[] };
    try {
      data = JSON.parse(readFileSync(this.file, 'utf8')) as typeof data;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.warn({ file: this.file, err: (e as Error).message }, 'ignoring unreadable endpoint records');
      return;
    }
    for (const r of Array.isArray(data.endpoints) ? data.endpoints : []) {
      if (isRecord(r)) this.#byKey.set(recordKey(r), r);
    }
  }

  #save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, endpoints: this.all() }, null, 1));
    renameSync(tmp, this.file);
  }
}

function isRecord(r: unknown): r is EndpointRecord {
  const o = r as Partial<EndpointRecord> | null;
  return typeof o === 'object' && o !== null && typeof o.network === 'string' && typeof o.ip === 'string' && typeof o.hostIf === 'string'
    && typeof o.ifname === 'string' && typeof o.vni === 'number' && typeof o.target === 'object' && o.target !== null
    && (typeof o.target.netns === 'string' || typeof o.target.pid === 'number');
}
