/**
 * Versioned JSON documents stored under the key layout (keys.ts). Anything read from the store
 * is untrusted: another version, a hand edit or a foreign tool may have written it. Decoders
 * therefore never throw; they return a reason, and readers skip the entry (CorruptionReporter
 * says so once per key) and carry on with the valid ones.
 *
 * Compatibility rule: unknown fields are ignored, so fields may be ADDED to a v1 document only
 * if they are optional and safe to ignore. Any other change bumps `version` (and the v1/ key
 * segment), and a reader refuses versions it does not know.
 */
import { OvnError } from '../lib/errors.js';
import { parseIp, parseSubnet } from '../lib/ip.js';
import { HOST_ID_RE, NETWORK_NAME_RE, type KeyLayout } from './keys.js';

export const DOC_VERSION = 1;
/** Same range as the agent configuration (daemon/config.ts). */
export const MAX_VNI = 16_777_215;
export const MIN_MTU = 576;
export const MAX_MTU = 65_000;
/** RFC 8200: every IPv6 link carries at least 1280 bytes. */
export const MIN_MTU_IPV6 = 1280;

export interface NetworkDoc {
  version: 1;
  name: string;
  vni: number;
  /** Canonical "network/prefix". */
  subnet: string;
  mtu?: number;
  /** ISO 8601 UTC. */
  createdAt: string;
}

export interface HostDoc {
  version: 1;
  id: string;
  /** Canonical underlay IP. */
  address: string;
  port: number;
  agentVersion: string;
  startedAt: string;
}

export interface EndpointDoc {
  version: 1;
  network: string;
  /** Canonical IP. */
  ip: string;
  /** Lower-case unicast MAC, "02:42:0a:00:00:05". */
  mac: string;
  /** Host id of the agent that owns the endpoint. */
  host: string;
  name?: string;
  createdAt: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

type Obj = Record<string, unknown>;

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

// Field checks: each returns the problem as a short phrase, or undefined when the value is fine.
// networks.ts reuses them so that the CLI and the decoders agree on what is valid.

export function nameProblem(v: unknown): string | undefined {
  return typeof v === 'string' && NETWORK_NAME_RE.test(v) ? undefined : `name ${show(v)} is not valid (use 1-32 of a-z, 0-9 and "-")`;
}

export function vniProblem(v: unknown): string | undefined {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_VNI ? undefined : `VNI ${show(v)} is not an integer in 1-${MAX_VNI}`;
}

export function mtuProblem(v: unknown, family: 4 | 6 = 4): string | undefined {
  const min = family === 6 ? MIN_MTU_IPV6 : MIN_MTU;
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= MAX_MTU
    ? undefined
    : `MTU ${show(v)} is not an integer in ${min}-${MAX_MTU}${family === 6 ? ' (IPv6 needs at least 1280)' : ''}`;
}

function timeProblem(field: string, v: unknown): string | undefined {
  return typeof v === 'string' && ISO_RE.test(v) && !Number.isNaN(Date.parse(v)) ? undefined : `${field} ${show(v)} is not an ISO 8601 UTC time`;
}

function parseJsonObject(text: unknown): Obj | string {
  if (typeof text !== 'string') return 'value is not a string';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'value is not valid JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'value is not a JSON object';
  const o = v as Obj;
  if (o.version !== DOC_VERSION) return `unsupported document version ${show(o.version)} (this agent reads version ${DOC_VERSION})`;
  return o;
}

function fail<T>(reason: string): Decoded<T> {
  return { ok: false, reason };
}

/** Validates a network document's fields; the subnet comes back canonical. */
export function checkNetworkDoc(o: Obj): Decoded<NetworkDoc> {
  const bad = nameProblem(o.name) ?? vniProblem(o.vni) ?? timeProblem('createdAt', o.createdAt);
  if (bad) return fail(bad);
  if (typeof o.subnet !== 'string') return fail(`subnet ${show(o.subnet)} is not a CIDR`);
  let subnet;
  try {
    subnet = parseSubnet(o.subnet);
  } catch (e) {
    return fail(`subnet: ${(e as Error).message}`);
  }
  if (o.mtu !== undefined) {
    const mtuBad = mtuProblem(o.mtu, subnet.family);
    if (mtuBad) return fail(mtuBad);
  }
  const doc: NetworkDoc = { version: 1, name: o.name as string, vni: o.vni as number, subnet: subnet.cidr, createdAt: o.createdAt as string };
  if (o.mtu !== undefined) doc.mtu = o.mtu as number;
  return { ok: true, value: doc };
}

export function checkHostDoc(o: Obj): Decoded<HostDoc> {
  if (typeof o.id !== 'string' || !HOST_ID_RE.test(o.id)) return fail(`id ${show(o.id)} is not a valid host id`);
  const ip = typeof o.address === 'string' ? parseIp(o.address) : undefined;
  if (!ip) return fail(`address ${show(o.address)} is not an IP address`);
  if (!Number.isInteger(o.port) || (o.port as number) < 1 || (o.port as number) > 65535) return fail(`port ${show(o.port)} is not in 1-65535`);
  if (typeof o.agentVersion !== 'string' || o.agentVersion.length === 0 || o.agentVersion.length > 64) {
    return fail(`agentVersion ${show(o.agentVersion)} is not a string of 1-64 characters`);
  }
  const bad = timeProblem('startedAt', o.startedAt);
  if (bad) return fail(bad);
  return { ok: true, value: { version: 1, id: o.id, address: ip.address, port: o.port as number, agentVersion: o.agentVersion, startedAt: o.startedAt as string } };
}

/** Unicast and not all-zero: an endpoint MAC must be usable as a frame source. */
export function macProblem(v: unknown): string | undefined {
  if (typeof v !== 'string' || !MAC_RE.test(v.toLowerCase())) return `mac ${show(v)} is not a MAC address (aa:bb:cc:dd:ee:ff)`;
  const first = parseInt(v.slice(0, 2), 16);
  if (first & 1) return `mac ${show(v)} is a multicast address`;
  if (/^00(:00){5}$/.test(v)) return `mac ${show(v)} is all zeros`;
  return undefined;
}

export function checkEndpointDoc(o: Obj): Decoded<EndpointDoc> {
  const nameBad = nameProblem(o.network);
  if (nameBad) return fail(`network ${nameBad}`);
  const bad = macProblem(o.mac) ?? timeProblem('createdAt', o.createdAt);
  if (bad) return fail(bad);
  const ip = typeof o.ip === 'string' ? parseIp(o.ip) : undefined;
  if (!ip) return fail(`ip ${show(o.ip)} is not an IP address`);
  if (typeof o.host !== 'string' || !HOST_ID_RE.test(o.host)) return fail(`host ${show(o.host)} is not a valid host id`);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 128 || /[\u0000-\u001f]/.test(o.name))) {
    return fail(`name ${show(o.name)} is not a string of 1-128 printable characters`);
  }
  const doc: EndpointDoc = {
    version: 1, network: o.network as string, ip: ip.address, mac: (o.mac as string).toLowerCase(), host: o.host, createdAt: o.createdAt as string,
  };
  if (o.name !== undefined) doc.name = o.name as string;
  return { ok: true, value: doc };
}

// Decoders: value text -> document, plus the key check (a document must sit at its own key).

export function decodeNetwork(keys: KeyLayout, key: string, value: string): Decoded<NetworkDoc> {
  const name = keys.parseNetworkKey(key);
  if (name === undefined) return fail('key is not a network key of this layout');
  const o = parseJsonObject(value);
  if (typeof o === 'string') return fail(o);
  const r = checkNetworkDoc(o);
  if (r.ok && r.value.name !== name) return fail(`document names network ${show(r.value.name)} but sits at key of ${show(name)}`);
  return r;
}

export function decodeHost(keys: KeyLayout, key: string, value: string): Decoded<HostDoc> {
  const id = keys.parseHostKey(key);
  if (id === undefined) return fail('key is not a host key of this layout');
  const o = parseJsonObject(value);
  if (typeof o === 'string') return fail(o);
  const r = checkHostDoc(o);
  if (r.ok && r.value.id !== id) return fail(`document names host ${show(r.value.id)} but sits at key of ${show(id)}`);
  return r;
}

export function decodeEndpoint(keys: KeyLayout, key: string, value: string): Decoded<EndpointDoc> {
  const parts = keys.parseEndpointKey(key);
  if (parts === undefined) return fail('key is not an endpoint key of this layout');
  const o = parseJsonObject(value);
  if (typeof o === 'string') return fail(o);
  const r = checkEndpointDoc(o);
  if (r.ok && (r.value.network !== parts.network || r.value.ip !== parts.ip)) {
    return fail(`document is for ${r.value.network}/${r.value.ip} but sits at key of ${parts.network}/${parts.ip}`);
  }
  return r;
}

// Encoders: validate first, so that nothing this code writes is something it would refuse to read.

function encode<T>(kind: string, doc: T, check: (o: Obj) => Decoded<T>): string {
  const r = check({ ...(doc as Obj) });
  if (!r.ok || (doc as Obj).version !== DOC_VERSION) {
    throw new OvnError('OVN_ERR_INVALID', `refusing to write an invalid ${kind} document: ${r.ok ? 'wrong version' : r.reason}`);
  }
  return JSON.stringify(r.value);
}

export function encodeNetwork(doc: NetworkDoc): string {
  return encode('network', doc, checkNetworkDoc);
}

export function encodeHost(doc: HostDoc): string {
  return encode('host', doc, checkHostDoc);
}

export function encodeEndpoint(doc: EndpointDoc): string {
  return encode('endpoint', doc, checkEndpointDoc);
}

/**
 * Says once per key that it is being skipped, however often a list or watch meets it again, and
 * counts every meeting (a metric: corrupted entries seen). forget() re-arms a key once it is
 * deleted, so a later corruption at the same key is reported afresh.
 */
export class CorruptionReporter {
  readonly #seen = new Map<string, number>();
  readonly #onFirst: (key: string, reason: string) => void;
  #total = 0;

  constructor(onFirst: (key: string, reason: string) => void = () => {}) {
    this.#onFirst = onFirst;
  }

  report(key: string, reason: string): void {
    this.#total++;
    const n = this.#seen.get(key) ?? 0;
    this.#seen.set(key, n + 1);
    if (n === 0) this.#onFirst(key, reason);
  }

  forget(key: string): void {
    this.#seen.delete(key);
  }

  /** Every occurrence reported, across all keys. */
  get total(): number {
    return this.#total;
  }

  count(key: string): number {
    return this.#seen.get(key) ?? 0;
  }

  /** Keys currently known bad. */
  keys(): string[] {
    return [...this.#seen.keys()];
  }
}
