/**
 * Endpoint documents in the store: claiming an address (cluster-wide IPAM), releasing it, and
 * listing a network's endpoints. COLD PATH.
 *
 * Uniqueness: an address is taken by writing `endpoints/<network>/<ip>` with a create-only
 * compare-and-set (cas(key, doc, 0)); whoever's write lands first owns the address, every other
 * claimant sees the CAS fail and moves on to the next candidate. No lock is needed, so claims on
 * many hosts run in parallel. A key holding a corrupted document still occupies its address:
 * the address is free only once the key is gone.
 *
 * Names (optional) are unique per network too, but only by a check before the write: two
 * concurrent claims of one name can both succeed. Hosts files then list both; documented.
 *
 * The same code serves the static mode (no store) over FileKv, a small file-backed map in the
 * agent's state directory.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { OvnError } from '../lib/errors.js';
import { formatIp, parseIp, type Family, type ParsedIp } from '../lib/ip.js';
import type { KvEntry, KvList, KvStore } from './store/kv-store.js';
import type { KeyLayout } from './keys.js';
import { CorruptionReporter, decodeEndpoint, encodeEndpoint, type EndpointDoc } from './documents.js';
import { checkRequestedAddress, endpointMac, lowestFree, subnetOf } from './ipam.js';

/** The part of a KvStore that endpoint bookkeeping needs. */
export type EndpointKv = Pick<KvStore, 'get' | 'list' | 'cas' | 'delete'>;

/** Hostname-like: what a hosts file (and a resolver) accepts. */
export const ENDPOINT_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

export interface ClaimRequest {
  network: string;
  /** The network's CIDR. */
  subnet: string;
  /** Host id of the claiming agent. */
  host: string;
  name?: string;
  /** An explicit address; otherwise the lowest free one. */
  ip?: string;
}

export interface StoredEndpoint {
  key: string;
  doc: EndpointDoc;
  modifyIndex: number;
}

/** CAS attempts before giving up (each failed one means another claim won that address). */
const MAX_ATTEMPTS = 256;
/** Re-list after this many lost races in a row, to learn every address taken meanwhile. */
const RELIST_EVERY = 8;

export function checkEndpointName(name: unknown): string {
  if (typeof name === 'string' && ENDPOINT_NAME_RE.test(name)) return name;
  throw new OvnError('OVN_ERR_INVALID',
    `endpoint name ${JSON.stringify(name)} is not a valid host name (1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`);
}

export class EndpointRegistry {
  readonly #kv: EndpointKv;
  readonly #keys: KeyLayout;
  readonly #reporter: CorruptionReporter;
  readonly #now: () => Date;

  constructor(kv: EndpointKv, keys: KeyLayout, opts: { reporter?: CorruptionReporter; now?: () => Date } = {}) {
    this.#kv = kv;
    this.#keys = keys;
    this.#reporter = opts.reporter ?? new CorruptionReporter();
    this.#now = opts.now ?? (() => new Date());
  }

  /** Valid endpoints of one network (or all), sorted by network then address. */
  async list(network?: string): Promise<StoredEndpoint[]> {
    const prefix = network === undefined ? this.#keys.allEndpointsPrefix : this.#keys.endpointsPrefix(network);
    return this.#decode((await this.#kv.list(prefix)).entries);
  }

  /**
   * Claims an address for a new endpoint and writes its document. Throws OVN_ERR_INVALID (bad
   * --ip or name), OVN_ERR_EXISTS (address, MAC or name taken), OVN_ERR_CAPACITY (subnet full).
   */
  async claim(req: ClaimRequest): Promise<StoredEndpoint> {
    const subnet = subnetOf(req.network, req.subnet);
    const name = req.name === undefined ? undefined : checkEndpointName(req.name);
    const wanted = req.ip === undefined ? undefined : checkRequestedAddress(subnet, req.ip, req.network);
    let attempts = 0;
    while (attempts < MAX_ATTEMPTS) {
      const { entries } = await this.#kv.list(this.#keys.endpointsPrefix(req.network));
      const taken = this.#taken(entries);
      if (name !== undefined) {
        const clash = taken.docs.find((d) => d.name === name);
        if (clash) throw new OvnError('OVN_ERR_EXISTS', `name "${name}" is already used in network "${req.network}" (${clash.ip} on host ${clash.host})`);
      }
      if (wanted) return this.#claimExplicit(req, wanted, name, taken);
      for (let k = 0; k < RELIST_EVERY && attempts < MAX_ATTEMPTS; k++, attempts++) {
        const v = lowestFree(subnet, taken.values, taken.macs);
        if (v === undefined) throw new OvnError('OVN_ERR_CAPACITY', `no free address left in network "${req.network}" (${subnet.cidr})`);
        const got = await this.#write(req, v, subnet.family, name);
        if (got) return got;
        taken.values.add(v);
      }
    }
    throw new OvnError('OVN_ERR_STORE_CONFLICT', `could not claim an address in network "${req.network}" after ${MAX_ATTEMPTS} attempts; retry`, { retryable: true });
  }

  async #claimExplicit(req: ClaimRequest, ip: ParsedIp, name: string | undefined, taken: Taken): Promise<StoredEndpoint> {
    const owner = taken.docs.find((d) => d.ip === ip.address);
    if (taken.values.has(ip.value)) {
      const by = owner ? ` by ${owner.name ? `"${owner.name}"` : 'an endpoint'} on host ${owner.host}` : ' (by an unreadable entry)';
      throw new OvnError('OVN_ERR_EXISTS', `${ip.address} is already in use in network "${req.network}"${by}`);
    }
    const mac = endpointMac(ip.value, ip.family);
    const macOwner = taken.docs.find((d) => d.mac === mac);
    if (macOwner) throw new OvnError('OVN_ERR_EXISTS', `${ip.address} would get MAC ${mac}, already used by ${macOwner.ip} in network "${req.network}"`);
    const got = await this.#write(req, ip.value, ip.family, name);
    if (!got) throw new OvnError('OVN_ERR_EXISTS', `${ip.address} was taken in network "${req.network}" by a concurrent attach`);
    return got;
  }

  async #write(req: ClaimRequest, value: bigint, family: Family, name: string | undefined): Promise<StoredEndpoint | undefined> {
    const address = formatIp(value, family);
    const doc: EndpointDoc = {
      version: 1, network: req.network, ip: address, mac: endpointMac(value, family), host: req.host, createdAt: this.#now().toISOString(),
    };
    if (name !== undefined) doc.name = name;
    const key = this.#keys.endpoint(req.network, address);
    const index = await this.#kv.cas(key, encodeEndpoint(doc), 0);
    return index === undefined ? undefined : { key, doc, modifyIndex: index };
  }

  /** Writes `doc` back at its key only if the key is free (create-only); false when it is taken. */
  async restore(doc: EndpointDoc): Promise<boolean> {
    return (await this.#kv.cas(this.#keys.endpoint(doc.network, doc.ip), encodeEndpoint(doc), 0)) !== undefined;
  }

  /**
   * Deletes an endpoint's document if it is still the one expected: owned by `host` (when
   * given) and unchanged since `modifyIndex` (when given). Returns whether it deleted.
   */
  async release(network: string, ip: string, expect: { host?: string; modifyIndex?: number } = {}): Promise<boolean> {
    const key = this.#keys.endpoint(network, ip);
    const entry = await this.#kv.get(key);
    if (!entry) return false;
    if (expect.modifyIndex !== undefined && entry.modifyIndex !== expect.modifyIndex) return false;
    if (expect.host !== undefined) {
      const d = decodeEndpoint(this.#keys, key, entry.value);
      if (!d.ok || d.value.host !== expect.host) return false;
    }
    const ok = await this.#kv.delete(key, entry.modifyIndex);
    if (ok) this.#reporter.forget(key);
    return ok;
  }

  #decode(entries: KvEntry[]): StoredEndpoint[] {
    const out: StoredEndpoint[] = [];
    for (const e of entries) {
      const r = decodeEndpoint(this.#keys, e.key, e.value);
      if (r.ok) out.push({ key: e.key, doc: r.value, modifyIndex: e.modifyIndex });
      else this.#reporter.report(e.key, r.reason);
    }
    return out.sort((a, b) => compareEndpoints(a.doc, b.doc));
  }

  #taken(entries: KvEntry[]): Taken {
    const values = new Set<bigint>();
    for (const e of entries) {
      const parts = this.#keys.parseEndpointKey(e.key);
      const ip = parts ? parseIp(parts.ip) : undefined;
      if (ip) values.add(ip.value);
    }
    const docs = this.#decode(entries).map((s) => s.doc);
    return { values, macs: new Set(docs.map((d) => d.mac)), docs };
  }
}

interface Taken {
  /** Addresses whose key exists (readable or not). */
  values: Set<bigint>;
  macs: Set<string>;
  docs: EndpointDoc[];
}

/** By network name, then numerically by address. */
export function compareEndpoints(a: { network: string; ip: string }, b: { network: string; ip: string }): number {
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  const x = parseIp(a.ip)?.value ?? 0n;
  const y = parseIp(b.ip)?.value ?? 0n;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A tiny file-backed EndpointKv for agents without a store (static mode): the same claim and
 * release code runs against it, so one host's endpoints still get unique addresses. Writes go
 * to a temporary file renamed over the old one (never a half-written file after a crash).
 */
export class FileKv implements EndpointKv {
  readonly url: string;
  readonly #path: string;
  readonly #entries = new Map<string, { value: string; modifyIndex: number }>();
  #index = 0;

  constructor(path: string) {
    this.#path = path;
    this.url = `file://${path}`;
    let data: { index?: number; entries?: Record<string, { value: string; modifyIndex: number }> } = {};
    try {
      data = JSON.parse(readFileSync(path, 'utf8')) as typeof data;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OvnError('OVN_ERR_CONFIG', `${path} is unreadable (${(e as Error).message}); move it away to start afresh`);
    }
    for (const [k, v] of Object.entries(data.entries ?? {})) {
      if (typeof v?.value === 'string' && Number.isSafeInteger(v.modifyIndex)) this.#entries.set(k, { value: v.value, modifyIndex: v.modifyIndex });
    }
    this.#index = Math.max(data.index ?? 0, ...[...this.#entries.values()].map((e) => e.modifyIndex));
  }

  async get(key: string): Promise<KvEntry | undefined> {
    const e = this.#entries.get(key);
    return e ? { key, ...e } : undefined;
  }

  async list(prefix: string): Promise<KvList> {
    const entries = [...this.#entries].filter(([k]) => k.startsWith(prefix)).map(([key, e]) => ({ key, ...e }));
    return { entries: entries.sort((a, b) => (a.key < b.key ? -1 : 1)), index: this.#index };
  }

  async cas(key: string, value: string, expectIndex: number): Promise<number | undefined> {
    const cur = this.#entries.get(key);
    if ((cur?.modifyIndex ?? 0) !== expectIndex) return undefined;
    this.#entries.set(key, { value, modifyIndex: ++this.#index });
    this.#save();
    return this.#index;
  }

  async delete(key: string, expectIndex?: number): Promise<boolean> {
    const cur = this.#entries.get(key);
    if (!cur || (expectIndex !== undefined && cur.modifyIndex !== expectIndex)) return false;
    this.#entries.delete(key);
    this.#index++;
    this.#save();
    return true;
  }

  #save(): void {
    const tmp = `${this.#path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, index: this.#index, entries: Object.fromEntries(this.#entries) }));
    renameSync(tmp, this.#path);
  }
}
