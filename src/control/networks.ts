/**
 * Cluster-wide network definitions (`ovnetd create/ls/inspect/rm`), stored as NetworkDocs.
 *
 * Uniqueness: names, VNIs and subnets must not collide across the cluster. Creations are
 * serialised by the network-creation lock (lock.ts), and under it a creation lists, validates,
 * allocates a VNI and writes with create-only CAS. The CAS alone keeps names unique even if the
 * lock were broken mid-way; VNI and subnet uniqueness rely on the lock, whose holder re-checks
 * it still holds the lock right before writing.
 *
 * Removal needs no lock: deleting can only remove conflicts, never create one.
 */
import { OvnError } from '../lib/errors.js';
import { parseSubnet, subnetsOverlap, type ParsedSubnet } from '../lib/ip.js';
import type { KvEntry, KvStore, WatchEvent } from './store/kv-store.js';
import { DEFAULT_PREFIX, KeyLayout } from './keys.js';
import {
  CorruptionReporter, decodeEndpoint, decodeNetwork, encodeNetwork, mtuProblem, nameProblem, vniProblem, MAX_VNI,
  type EndpointDoc, type NetworkDoc,
} from './documents.js';
import { withLock, type LockOptions } from './lock.js';

/** Automatic VNIs start here, leaving 1-4095 to operators who pick their own (VLAN-like ids). */
export const FIRST_AUTO_VNI = 4096;

export interface CreateNetworkRequest {
  name: string;
  subnet: string;
  vni?: number;
  mtu?: number;
}

export interface RemoveNetworkResult {
  name: string;
  /** The document removed; undefined when the key held a corrupted entry. */
  network?: NetworkDoc;
  removedEndpoints: number;
}

export interface NetworkRegistryOptions {
  /** Shared so that a process reports each bad key once, whichever path met it. */
  reporter?: CorruptionReporter;
  lock?: LockOptions;
  /** Wall clock for createdAt. */
  now?: () => Date;
}

export interface ValidRequest {
  name: string;
  subnet: ParsedSubnet;
  vni?: number;
  mtu?: number;
}

function invalid(message: string): OvnError {
  return new OvnError('OVN_ERR_INVALID', message);
}

/** Checks a request without the store; throws OVN_ERR_INVALID with one line naming the problem. */
export function validateCreateRequest(req: CreateNetworkRequest): ValidRequest {
  const nameBad = nameProblem(req.name);
  if (nameBad) throw invalid(`network ${nameBad}`);
  if (typeof req.subnet !== 'string' || req.subnet === '') throw invalid('a subnet is required (ADDRESS/PREFIX, e.g. 10.77.0.0/24)');
  let subnet: ParsedSubnet;
  try {
    subnet = parseSubnet(req.subnet.trim());
  } catch (e) {
    throw invalid(`subnet ${(e as Error).message}`);
  }
  if (req.vni !== undefined) {
    const bad = vniProblem(req.vni);
    if (bad) throw invalid(bad);
  }
  if (req.mtu !== undefined) {
    const bad = mtuProblem(req.mtu, subnet.family);
    if (bad) throw invalid(bad);
  }
  return { name: req.name, subnet, vni: req.vni, mtu: req.mtu };
}

/** Lowest VNI >= `from` not in `used`; undefined when none is left. */
export function allocateVni(used: ReadonlySet<number>, from: number = FIRST_AUTO_VNI): number | undefined {
  for (let v = from; v <= MAX_VNI; v++) if (!used.has(v)) return v;
  return undefined;
}

/** The first clash of `req` with existing networks, as the error to throw. */
export function findConflict(existing: readonly NetworkDoc[], req: ValidRequest): OvnError | undefined {
  const same = existing.find((n) => n.name === req.name);
  if (same) return new OvnError('OVN_ERR_EXISTS', `network "${req.name}" already exists (VNI ${same.vni}, subnet ${same.subnet})`);
  const overlap = existing.find((n) => subnetsOverlap(parseSubnet(n.subnet), req.subnet));
  if (overlap) return new OvnError('OVN_ERR_EXISTS', `subnet ${req.subnet.cidr} overlaps network "${overlap.name}" (${overlap.subnet})`);
  const vni = req.vni === undefined ? undefined : existing.find((n) => n.vni === req.vni);
  if (vni) return new OvnError('OVN_ERR_EXISTS', `VNI ${req.vni} is already used by network "${vni.name}"`);
  return undefined;
}

export class NetworkRegistry {
  readonly keys: KeyLayout;
  readonly reporter: CorruptionReporter;
  readonly #store: KvStore;
  readonly #lock: LockOptions;
  readonly #now: () => Date;

  constructor(store: KvStore, prefix: string = DEFAULT_PREFIX, opts: NetworkRegistryOptions = {}) {
    this.#store = store;
    this.keys = new KeyLayout(prefix);
    this.reporter = opts.reporter ?? new CorruptionReporter();
    this.#lock = opts.lock ?? {};
    this.#now = opts.now ?? (() => new Date());
  }

  async create(req: CreateNetworkRequest): Promise<NetworkDoc> {
    const valid = validateCreateRequest(req);
    return withLock(this.#store, this.keys.networksLock, 'network-creation lock', this.#lock, async (lock) => {
      const { docs, raw } = await this.#listNetworks();
      const corrupt = raw.find((e) => e.key === this.keys.network(valid.name));
      if (corrupt && !docs.some((d) => d.name === valid.name)) throw occupiedByCorrupt(corrupt.key, valid.name);
      const clash = findConflict(docs, valid);
      if (clash) throw clash;
      const vni = valid.vni ?? allocateVni(new Set(docs.map((d) => d.vni)));
      if (vni === undefined) throw new OvnError('OVN_ERR_CAPACITY', `no free VNI left in ${FIRST_AUTO_VNI}-${MAX_VNI}; give one explicitly`);
      const doc: NetworkDoc = { version: 1, name: valid.name, vni, subnet: valid.subnet.cidr, createdAt: this.#now().toISOString() };
      if (valid.mtu !== undefined) doc.mtu = valid.mtu;
      if (!(await lock.stillHeld())) {
        throw new OvnError('OVN_ERR_STORE_CONFLICT', 'the network-creation lock expired and was taken by another process before the write; retry', { retryable: true });
      }
      const written = await this.#store.cas(this.keys.network(valid.name), encodeNetwork(doc), 0);
      if (written === undefined) throw new OvnError('OVN_ERR_EXISTS', `network "${valid.name}" already exists (created concurrently)`);
      return doc;
    });
  }

  /** Valid networks sorted by name; corrupted entries are reported and skipped. */
  async list(): Promise<NetworkDoc[]> {
    return (await this.#listNetworks()).docs;
  }

  async inspect(name: string): Promise<NetworkDoc> {
    const key = this.#networkKey(name);
    const entry = await this.#store.get(key);
    if (!entry) throw notFound(name);
    const r = decodeNetwork(this.keys, key, entry.value);
    if (r.ok) return r.value;
    // Not reported as skipped: the caller asked for this very entry, and the error says it all.
    throw new OvnError('OVN_ERR_STORE_PROTOCOL', `network "${name}" is corrupted in the store (${key}: ${r.reason}); remove it with rm`);
  }

  /** Endpoint documents of one network, sorted by IP key; corrupted ones reported and skipped. */
  async listEndpoints(name: string): Promise<EndpointDoc[]> {
    const { entries } = await this.#store.list(this.keys.endpointsPrefix(this.#checked(name)));
    const out: EndpointDoc[] = [];
    for (const e of entries) {
      const r = decodeEndpoint(this.keys, e.key, e.value);
      if (r.ok && r.value.network === name) out.push(r.value);
      else this.reporter.report(e.key, r.ok ? 'endpoint of another network' : r.reason);
    }
    return out;
  }

  /**
   * Deletes a network. Refuses (OVN_ERR_EXISTS) while endpoint keys exist under it, unless
   * force, which deletes them too; taking the devices down is each agent's job when it sees the
   * deletion. A corrupted document can be removed this way.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<RemoveNetworkResult> {
    const key = this.#networkKey(name);
    const entry = await this.#store.get(key);
    if (!entry) throw notFound(name);
    const decoded = decodeNetwork(this.keys, key, entry.value);
    const endpoints = (await this.#store.list(this.keys.endpointsPrefix(name))).entries;
    if (endpoints.length > 0 && !opts.force) throw inUse(name, endpoints, this.keys.endpointsPrefix(name));
    if (!(await this.#store.delete(key, entry.modifyIndex))) {
      throw new OvnError('OVN_ERR_STORE_CONFLICT', `network "${name}" changed while it was being removed; retry`, { retryable: true });
    }
    this.reporter.forget(key);
    const removedEndpoints = opts.force ? await this.#deleteEndpoints(name) : 0;
    return { name, network: decoded.ok ? decoded.value : undefined, removedEndpoints };
  }

  /**
   * Follows the networks prefix; onChange gets a fresh Map (name -> doc) after the first
   * listing and after every event that changed it.
   */
  watch(onChange: (networks: Map<string, NetworkDoc>) => void, opts: { signal: AbortSignal; onError?: (err: unknown) => void }): void {
    const state = new NetworkWatchState(this.keys, this.reporter);
    this.#store.watch(this.keys.networksPrefix, (e) => {
      if (state.apply(e)) onChange(state.snapshot());
    }, opts);
  }

  async #listNetworks(): Promise<{ docs: NetworkDoc[]; raw: KvEntry[] }> {
    const { entries } = await this.#store.list(this.keys.networksPrefix);
    const docs: NetworkDoc[] = [];
    for (const e of entries) {
      const r = decodeNetwork(this.keys, e.key, e.value);
      if (r.ok) docs.push(r.value);
      else this.reporter.report(e.key, r.reason);
    }
    docs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { docs, raw: entries };
  }

  /** Endpoints may be added concurrently by agents; sweep until none are left (bounded). */
  async #deleteEndpoints(name: string): Promise<number> {
    let removed = 0;
    for (let round = 0; round < 5; round++) {
      const { entries } = await this.#store.list(this.keys.endpointsPrefix(name));
      if (entries.length === 0) break;
      for (const e of entries) {
        if (await this.#store.delete(e.key)) removed++;
        this.reporter.forget(e.key);
      }
    }
    return removed;
  }

  #checked(name: string): string {
    const bad = nameProblem(name);
    if (bad) throw invalid(`network ${bad}`);
    return name;
  }

  #networkKey(name: string): string {
    return this.keys.network(this.#checked(name));
  }
}

function notFound(name: string): OvnError {
  return new OvnError('OVN_ERR_NOT_FOUND', `no network named "${name}"`);
}

function occupiedByCorrupt(key: string, name: string): OvnError {
  return new OvnError('OVN_ERR_EXISTS', `network "${name}" already exists but its document is corrupted (${key}); remove it with rm first`);
}

function inUse(name: string, endpoints: KvEntry[], prefix: string): OvnError {
  const shown = endpoints.slice(0, 3).map((e) => e.key.slice(prefix.length)).join(', ');
  const more = endpoints.length > 3 ? `, and ${endpoints.length - 3} more` : '';
  return new OvnError('OVN_ERR_EXISTS',
    `network "${name}" still has ${endpoints.length} endpoint(s) (${shown}${more}); detach them first, or remove with --force`);
}

/**
 * Decodes a watch stream of the networks prefix into name -> NetworkDoc. A key that turns
 * corrupted drops out of the map, exactly as list() would skip it, so watchers and listers agree.
 */
export class NetworkWatchState {
  readonly #keys: KeyLayout;
  readonly #reporter: CorruptionReporter;
  #networks = new Map<string, NetworkDoc>();

  constructor(keys: KeyLayout, reporter: CorruptionReporter = new CorruptionReporter()) {
    this.#keys = keys;
    this.#reporter = reporter;
  }

  /** Applies one event; true when the map changed (always for a reset). */
  apply(e: WatchEvent): boolean {
    if (e.type === 'reset') {
      this.#networks = new Map();
      for (const entry of e.entries) this.#put(entry);
      return true;
    }
    if (e.type === 'delete') {
      this.#reporter.forget(e.key);
      const name = this.#keys.parseNetworkKey(e.key);
      return name !== undefined && this.#networks.delete(name);
    }
    const before = this.#networks.get(this.#keys.parseNetworkKey(e.entry.key) ?? '');
    const after = this.#put(e.entry);
    return JSON.stringify(before) !== JSON.stringify(after);
  }

  snapshot(): Map<string, NetworkDoc> {
    return new Map(this.#networks);
  }

  #put(entry: KvEntry): NetworkDoc | undefined {
    const r = decodeNetwork(this.#keys, entry.key, entry.value);
    if (r.ok) {
      this.#networks.set(r.value.name, r.value);
      return r.value;
    }
    this.#reporter.report(entry.key, r.reason);
    const name = this.#keys.parseNetworkKey(entry.key);
    if (name !== undefined) this.#networks.delete(name);
    return undefined;
  }
}

/** Convenience for callers that hold no registry: decode a whole event sequence. */
export function networksFromEvents(keys: KeyLayout, events: Iterable<WatchEvent>, reporter?: CorruptionReporter): Map<string, NetworkDoc> {
  const state = new NetworkWatchState(keys, reporter);
  for (const e of events) state.apply(e);
  return state.snapshot();
}
