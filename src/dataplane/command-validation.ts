/**
 * Shape and consistency checks of data-plane commands, done in full BEFORE the data plane
 * changes anything (a command is applied entirely or not at all). Commands come from our own
 * control plane, but also, through it, from the store: nothing is trusted. Every failure is an
 * OvnError OVN_ERR_INVALID naming the offending field.
 */
import { OvnError } from '../lib/errors.js';
import type { NeighborEntry, NetworkSpec, PeerSpec } from './commands.js';
import { formatMac, isMulticastHi, parseMac } from './ethernet.js';
import { addressWords, canonicalAddress } from './peers.js';
import { isValidVni, MAX_VNI } from './vxlan.js';

/** Linux interface names are at most IFNAMSIZ - 1 = 15 bytes. */
const MAX_IFNAME = 15;

export interface CheckedPeer {
  /** The spec with VNIs deduplicated and sorted. */
  spec: PeerSpec;
  words: Uint32Array;
  /** Canonical address text, handed to UnderlayPort.setPeer. */
  canonical: string;
}

export interface CheckedPin {
  vni: number;
  hi: number;
  lo: number;
  peerId: string;
}

export interface CheckedNeighbor {
  /** With the address and MAC in canonical text. */
  entry: NeighborEntry;
  /** The address as four words (IPv4 as ::ffff:a.b.c.d), the neighbour table's key. */
  words: Uint32Array;
  hi: number;
  lo: number;
}

export interface CheckedSnapshot {
  networks: NetworkSpec[];
  peers: CheckedPeer[];
  pins: CheckedPin[];
  neighbors: CheckedNeighbor[];
}

export interface Limits {
  maxNetworks: number;
  maxPeers: number;
  maxPins: number;
  maxNeighbors?: number;
}

export function invalid(message: string): OvnError {
  return new OvnError('OVN_ERR_INVALID', message);
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function record(x: unknown, where: string): Record<string, unknown> {
  if (!isRecord(x)) throw invalid(`${where} must be an object`);
  return x;
}

function text(x: unknown, where: string, max = 1024): string {
  if (typeof x !== 'string' || x.length === 0 || x.length > max) throw invalid(`${where} must be a non-empty string of at most ${max} characters`);
  return x;
}

function list(x: unknown, where: string): unknown[] {
  if (!Array.isArray(x)) throw invalid(`${where} must be an array`);
  return x;
}

export function checkVni(x: unknown, where: string): number {
  if (!isValidVni(x)) throw invalid(`${where} must be an integer VNI in 0..${MAX_VNI}, got ${JSON.stringify(x)}`);
  return x;
}

/** A unicast MAC (multicast destinations are always flooded, so pinning one means nothing). */
export function checkUnicastMac(x: unknown, where: string): { hi: number; lo: number } {
  const mac = parseMac(x as string);
  if (!mac) throw invalid(`${where} must be a MAC address like 02:42:0a:00:00:05, got ${JSON.stringify(x)}`);
  if (isMulticastHi(mac.hi)) throw invalid(`${where} ${x as string} is a multicast address`);
  return mac;
}

export function checkNetwork(x: unknown, where: string): NetworkSpec {
  const r = record(x, where);
  return { vni: checkVni(r.vni, `${where}.vni`), name: text(r.name, `${where}.name`), tapName: text(r.tapName, `${where}.tapName`, MAX_IFNAME) };
}

export function checkPeer(x: unknown, where: string): CheckedPeer {
  const r = record(x, where);
  const id = text(r.id, `${where}.id`);
  const address = text(r.address, `${where}.address`, 64);
  const words = addressWords(address);
  if (!words) throw invalid(`${where}.address ${JSON.stringify(address)} is not an IP address`);
  if (words[0] === 0 && words[1] === 0 && (words[2] === 0 || words[2] === 0xffff) && words[3] === 0) {
    throw invalid(`${where}.address ${address} is the unspecified address`);
  }
  const port = r.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`${where}.port must be an integer in 1..65535, got ${JSON.stringify(port)}`);
  }
  const vnis = list(r.vnis, `${where}.vnis`).map((v, i) => checkVni(v, `${where}.vnis[${i}]`));
  const spec: PeerSpec = { id, address, port, vnis: [...new Set(vnis)].sort((a, b) => a - b) };
  return { spec, words, canonical: canonicalAddress(address)! };
}

export function checkPin(x: unknown, where: string): CheckedPin {
  const r = record(x, where);
  const vni = checkVni(r.vni, `${where}.vni`);
  const { hi, lo } = checkUnicastMac(r.mac, `${where}.mac`);
  return { vni, hi, lo, peerId: text(r.peerId, `${where}.peerId`) };
}

/** The address of a neigh-set/neigh-remove: canonical text and table words. */
export function checkNeighborIp(x: unknown, where: string): { ip: string; words: Uint32Array } {
  const ip = typeof x === 'string' && x.length <= 64 ? canonicalAddress(x) : undefined;
  if (ip === undefined) throw invalid(`${where} must be an IP address, got ${JSON.stringify(x)}`);
  return { ip, words: addressWords(ip)! };
}

export function checkNeighbor(x: unknown, where: string): CheckedNeighbor {
  const r = record(x, where);
  const vni = checkVni(r.vni, `${where}.vni`);
  const { ip, words } = checkNeighborIp(r.ip, `${where}.ip`);
  const { hi, lo } = checkUnicastMac(r.mac, `${where}.mac`);
  return { entry: { vni, ip, mac: formatMac(hi, lo) }, words, hi, lo };
}

export function pinKey(vni: number, hi: number, lo: number): string {
  return `${vni}/${hi}/${lo}`;
}

export function addressKey(words: Uint32Array): string {
  return words.join('.');
}

function unique<T>(items: T[], key: (t: T) => string, what: (t: T) => string): void {
  const seen = new Set<string>();
  for (const t of items) {
    const k = key(t);
    if (seen.has(k)) throw invalid(`duplicate ${what(t)}`);
    seen.add(k);
  }
}

/** A snapshot checked in itself: shapes, uniqueness, limits, and pins that refer to what it holds. */
export function checkSnapshot(x: Record<string, unknown>, limits: Limits): CheckedSnapshot {
  const networks = list(x.networks, 'snapshot.networks').map((n, i) => checkNetwork(n, `snapshot.networks[${i}]`));
  const peers = list(x.peers, 'snapshot.peers').map((p, i) => checkPeer(p, `snapshot.peers[${i}]`));
  const pins = list(x.pinned, 'snapshot.pinned').map((e, i) => checkPin(e, `snapshot.pinned[${i}]`));
  const neighbors = list(x.neighbors ?? [], 'snapshot.neighbors').map((e, i) => checkNeighbor(e, `snapshot.neighbors[${i}]`));
  unique(networks, (n) => String(n.vni), (n) => `network VNI ${n.vni}`);
  unique(networks, (n) => n.tapName, (n) => `network tapName ${n.tapName}`);
  unique(peers, (p) => p.spec.id, (p) => `peer id "${p.spec.id}"`);
  unique(peers, (p) => addressKey(p.words), (p) => `peer address ${p.spec.address}`);
  unique(pins, (e) => pinKey(e.vni, e.hi, e.lo), (e) => `pinned entry in VNI ${e.vni}`);
  unique(neighbors, (e) => `${e.entry.vni}/${e.entry.ip}`, (e) => `neighbor ${e.entry.ip} in VNI ${e.entry.vni}`);
  if (networks.length > limits.maxNetworks) throw new OvnError('OVN_ERR_CAPACITY', `${networks.length} networks, at most ${limits.maxNetworks}`);
  if (peers.length > limits.maxPeers) throw new OvnError('OVN_ERR_CAPACITY', `${peers.length} peers, at most ${limits.maxPeers}`);
  if (pins.length > limits.maxPins) throw new OvnError('OVN_ERR_CAPACITY', `${pins.length} pinned entries, at most ${limits.maxPins}`);
  const vnis = new Set(networks.map((n) => n.vni));
  const byId = new Map(peers.map((p) => [p.spec.id, p.spec]));
  for (const e of pins) checkPinTarget(e, vnis.has(e.vni), byId.get(e.peerId));
  for (const e of neighbors) if (!vnis.has(e.entry.vni)) throw invalid(`neighbor ${e.entry.ip}: no network with VNI ${e.entry.vni}`);
  if (limits.maxNeighbors !== undefined && neighbors.length > limits.maxNeighbors) throw new OvnError('OVN_ERR_CAPACITY', `${neighbors.length} neighbors, at most ${limits.maxNeighbors}`);
  return { networks, peers, pins, neighbors };
}

/** A pin must name a network here and a peer that takes part in it. */
export function checkPinTarget(e: CheckedPin, networkExists: boolean, peer: PeerSpec | undefined): void {
  if (!networkExists) throw invalid(`pinned entry: no network with VNI ${e.vni}`);
  if (!peer) throw invalid(`pinned entry in VNI ${e.vni}: no peer "${e.peerId}"`);
  if (!peer.vnis.includes(e.vni)) throw invalid(`pinned entry in VNI ${e.vni}: peer "${e.peerId}" is not a member of that VNI`);
}
