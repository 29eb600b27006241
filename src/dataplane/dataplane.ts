/**
 * The data plane: owns the tables, the forwarder and the TAP ports of its networks, and changes
 * them only through apply(command) (after libnetwork's peerOperation queue: one ordered stream
 * that starts with a full snapshot). Each command is checked in full first, then resources that
 * can fail (TAP opens) are acquired, and only then is state changed, so a failing command
 * changes nothing.
 *
 * Invariants kept between commands:
 * - every fdb entry belongs to a network present here and points at a peer that is a member of
 *   it (pins included: a peer leaving a VNI or going away takes its pins there along);
 * - a peer's membership bits exist for the networks present whose VNI its spec lists; VNIs
 *   without a network here are remembered and take effect when the network is added;
 * - a network present has an open TAP port, closed (by us) when the network goes.
 */
import type { Clock } from '../lib/clock.js';
import { OvnError } from '../lib/errors.js';
import {
  addressKey, checkNetwork, checkPeer, checkPin, checkPinTarget, checkSnapshot, checkUnicastMac, checkVni,
  invalid, isRecord, pinKey, type CheckedPeer, type CheckedPin,
  checkNeighbor, checkNeighborIp, type CheckedNeighbor,
} from './command-validation.js';
import { DEFAULT_NEIGHBOR_CAPACITY, NeighborResponder, NeighborTable } from './neighbors.js';
import type { DataplaneCommand, NetworkSpec, PeerSpec } from './commands.js';
import { Counters, G_FDB_AGED, G_FDB_EVICTED } from './counters.js';
import { formatMac } from './ethernet.js';
import { DEFAULT_FDB_CAPACITY, Fdb } from './fdb.js';
import { Forwarder } from './forwarder.js';
import { Membership } from './membership.js';
import { NetworkTable } from './networks.js';
import { canonicalAddress, PeerTable } from './peers.js';
import { DEFAULT_BATCH, DEFAULT_SLOT_SIZE, PacketBatch, type TapPort, type TapProvider, type UnderlayPort } from './ports.js';

export type SnapshotCommand = Extract<DataplaneCommand, { kind: 'snapshot' }>;

export interface DataplaneOptions {
  underlay: UnderlayPort;
  taps: TapProvider;
  clock: Clock;
  /** Most fdb entries, learned and pinned together (default 65,536). */
  fdbCapacity?: number;
  /** Learned entries not seen for this long are removed by tick() (default 300,000 ms). */
  fdbAgeMs?: number;
  maxPeers?: number;
  maxNetworks?: number;
  /** Packets per receive batch (default 64). */
  batchSize?: number;
  slotSize?: number;
  /** fdb slots examined per tick() (default: enough for a full sweep every 32 ticks). */
  ageBudget?: number;
  /** Most remote endpoint addresses answered locally (ARP/ND suppression; default 65,536). */
  neighborCapacity?: number;
}

export interface FdbDumpEntry {
  vni: number;
  mac: string;
  peerId: string;
  peerAddress: string;
  pinned: boolean;
  ageSeconds: number;
}

export interface NetworkCounters {
  vni: number;
  name: string;
  [counter: string]: number | string;
}

export interface DataplaneCounters {
  global: Record<string, number>;
  networks: NetworkCounters[];
  fdbSize: number;
  fdbCapacity: number;
  peers: number;
}

const KINDS = new Set(['snapshot', 'network-add', 'network-remove', 'peer-set', 'peer-remove', 'fdb-pin', 'fdb-unpin', 'neigh-set', 'neigh-remove']);
export const DEFAULT_FDB_AGE_MS = 300_000;
export const DEFAULT_MAX_PEERS = 4096;
export const DEFAULT_MAX_NETWORKS = 1024;

export class Dataplane {
  readonly #underlay: UnderlayPort;
  readonly #tapProvider: TapProvider;
  readonly #clock: Clock;
  readonly #ageMs: number;
  readonly #ageBudget: number;
  readonly #batchSize: number;
  readonly #slotSize: number;
  readonly #fdb: Fdb;
  readonly #peers: PeerTable;
  readonly #members: Membership;
  readonly #nets: NetworkTable;
  readonly #counters: Counters;
  readonly #fwd: Forwarder;
  readonly #neigh: NeighborTable;
  readonly #rxBatch: PacketBatch;
  readonly #specs = new Map<string, PeerSpec>();
  readonly #taps: (TapPort | null)[];
  readonly #tapBatches: (PacketBatch | null)[];
  /** Bumped when a network index changes hands, so a late callback of an old TAP is ignored. */
  readonly #gen: Uint32Array;
  #ready = false;
  #started = false;
  #closed = false;

  constructor(o: DataplaneOptions) {
    this.#underlay = o.underlay;
    this.#tapProvider = o.taps;
    this.#clock = o.clock;
    this.#ageMs = o.fdbAgeMs ?? DEFAULT_FDB_AGE_MS;
    this.#batchSize = o.batchSize ?? DEFAULT_BATCH;
    this.#slotSize = o.slotSize ?? DEFAULT_SLOT_SIZE;
    const maxNetworks = o.maxNetworks ?? DEFAULT_MAX_NETWORKS;
    const maxPeers = o.maxPeers ?? DEFAULT_MAX_PEERS;
    this.#fdb = new Fdb(o.fdbCapacity ?? DEFAULT_FDB_CAPACITY);
    this.#ageBudget = o.ageBudget ?? Math.max(1024, Math.ceil(this.#fdb.slotCount / 32));
    this.#peers = new PeerTable(maxPeers);
    this.#members = new Membership(maxNetworks, maxPeers);
    this.#nets = new NetworkTable(maxNetworks);
    this.#counters = new Counters(maxNetworks);
    this.#neigh = new NeighborTable(o.neighborCapacity ?? DEFAULT_NEIGHBOR_CAPACITY);
    const rxShape = this.#underlay.rxShape;
    this.#rxBatch = new PacketBatch(rxShape?.capacity ?? this.#batchSize, rxShape?.slotSize ?? this.#slotSize, rxShape);
    this.#fwd = new Forwarder({
      fdb: this.#fdb, peers: this.#peers, members: this.#members, networks: this.#nets, counters: this.#counters,
      underlay: this.#underlay, clock: this.#clock, batchSize: this.#batchSize, tapListSize: this.#rxBatch.maxPackets,
      neighbors: new NeighborResponder(this.#neigh, this.#counters, this.#batchSize),
    });
    this.#taps = new Array<TapPort | null>(maxNetworks).fill(null);
    this.#tapBatches = new Array<PacketBatch | null>(maxNetworks).fill(null);
    this.#gen = new Uint32Array(maxNetworks);
  }

  /** Starts receiving from the underlay and from the TAPs of the networks present (and later added). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#underlay.start(this.#rxBatch, (b) => { if (!this.#closed) this.#fwd.fromUnderlay(b); });
    for (const net of this.#nets.indices()) this.#startTap(net);
  }

  /** Applies one command, entirely or (throwing an OvnError) not at all. */
  apply(cmd: DataplaneCommand): void {
    if (this.#closed) throw invalid('the data plane is closed');
    const c = cmd as unknown;
    const kind = isRecord(c) ? c.kind : undefined;
    if (typeof kind !== 'string' || !KINDS.has(kind)) throw invalid(`unknown data-plane command ${JSON.stringify(kind)}`);
    if (!this.#ready && kind !== 'snapshot') throw invalid(`the first data-plane command must be a snapshot, not "${kind}"`);
    const r = c as Record<string, unknown>;
    switch (cmd.kind) {
      case 'snapshot': return this.#applySnapshot(r);
      case 'network-add': return this.#networkAdd(checkNetwork(r.network, 'network'));
      case 'network-remove': return this.#networkRemove(checkVni(r.vni, 'vni'));
      case 'peer-set': return this.#peerSet(checkPeer(r.peer, 'peer'));
      case 'peer-remove': return this.#peerRemove(r.id);
      case 'fdb-pin': return this.#fdbPin(checkPin(r.entry, 'entry'));
      case 'fdb-unpin': {
        const vni = checkVni(r.vni, 'vni');
        const { hi, lo } = checkUnicastMac(r.mac, 'mac');
        this.#fdb.unpin(vni, hi, lo);
        return;
      }
      case 'neigh-set': return this.#neighSet(checkNeighbor(r.entry, 'entry'));
      case 'neigh-remove': {
        const vni = checkVni(r.vni, 'vni');
        this.#neigh.remove(vni, checkNeighborIp(r.ip, 'ip').words);
      }
    }
  }

  /** The current state as a snapshot command (networks by VNI, peers by id, pins by VNI and MAC). */
  snapshot(): SnapshotCommand {
    const networks = this.#nets.indices().map((n) => ({ ...this.#nets.spec(n)! })).sort((a, b) => a.vni - b.vni);
    const peers = [...this.#specs.values()].map((p) => ({ ...p, vnis: [...p.vnis] })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const pinned = this.#fdb.dump().filter((e) => e.pinned)
      .map((e) => ({ vni: e.vni, mac: formatMac(e.hi, e.lo), peerId: this.#peers.idOf(e.peer)! }))
      .sort((a, b) => a.vni - b.vni || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
    const neighbors = this.neighborDump();
    // Listed only when there are any, so a host without endpoints keeps its old snapshot shape.
    return neighbors.length > 0 ? { kind: 'snapshot', networks, peers, pinned, neighbors } : { kind: 'snapshot', networks, peers, pinned };
  }

  /** Addresses answered locally (ARP/ND suppression), by VNI then address text. */
  neighborDump(vni?: number): { vni: number; ip: string; mac: string }[] {
    return this.#neigh.dump()
      .filter((e) => vni === undefined || e.vni === vni)
      .map((e) => ({ vni: e.vni, ip: wordsToIp(e.words), mac: formatMac(e.hi, e.lo) }))
      .sort((a, b) => a.vni - b.vni || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  }

  /** One bounded ageing step; call from a timer. Returns how many entries aged out. */
  tick(): number {
    if (this.#closed) return 0;
    const n = this.#fdb.age(this.#clock.now(), this.#ageMs, this.#ageBudget);
    this.#counters.global[G_FDB_AGED] += n;
    return n;
  }

  fdbDump(vni?: number): FdbDumpEntry[] {
    const now = this.#clock.now();
    return this.#fdb.dump()
      .filter((e) => vni === undefined || e.vni === vni)
      .map((e) => ({
        vni: e.vni, mac: formatMac(e.hi, e.lo), peerId: this.#peers.idOf(e.peer) ?? '', peerAddress: this.#peers.addressOf(e.peer) ?? '',
        pinned: e.pinned, ageSeconds: Math.max(0, (now - e.lastSeen) / 1000),
      }))
      .sort((a, b) => a.vni - b.vni || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  counters(): DataplaneCounters {
    const networks = this.#nets.indices().map((n): NetworkCounters => {
      const s = this.#nets.spec(n)!;
      return { ...this.#counters.networkRecord(n), vni: s.vni, name: s.name };
    }).sort((a, b) => a.vni - b.vni);
    return { global: this.#counters.globalRecord(), networks, fdbSize: this.#fdb.size, fdbCapacity: this.#fdb.capacity, peers: this.#peers.count };
  }

  /** Closes the TAP ports of all networks (the underlay belongs to whoever made it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const net of this.#nets.indices()) this.#detachTap(net);
  }

  // Commands. Each validates, acquires, then commits.

  #applySnapshot(r: Record<string, unknown>): void {
    const s = checkSnapshot(r, { maxNetworks: this.#nets.maxNetworks, maxPeers: this.#peers.maxPeers, maxPins: this.#fdb.capacity, maxNeighbors: this.#neigh.capacity });
    const want = new Map(s.networks.map((n) => [n.vni, n]));
    const drop = this.#nets.indices().filter((n) => want.get(this.#nets.vni[n])?.tapName !== this.#nets.spec(n)!.tapName);
    const add = s.networks.filter((n) => {
      const cur = this.#nets.lookup(n.vni);
      return cur < 0 || drop.includes(cur);
    });
    const opened = this.#openTaps(add);
    const wantPeers = new Map(s.peers.map((p) => [p.spec.id, p]));
    const wantPins = new Set(s.pins.map((e) => pinKey(e.vni, e.hi, e.lo)));
    for (const net of drop) this.#removeNetwork(net);
    for (const id of [...this.#specs.keys()]) if (!wantPeers.has(id)) this.#removePeer(this.#peers.indexOf(id));
    for (const e of this.#fdb.dump()) if (e.pinned && !wantPins.has(pinKey(e.vni, e.hi, e.lo))) this.#fdb.remove(e.vni, e.hi, e.lo);
    for (const n of s.networks) {
      const cur = this.#nets.lookup(n.vni);
      if (cur >= 0) this.#nets.rename(cur, n.name);
    }
    add.forEach((n, k) => this.#addNetwork(n, opened[k]));
    // Unbind every moved peer first, so two peers may swap addresses.
    for (const p of s.peers) {
      const i = this.#peers.indexOf(p.spec.id);
      if (i >= 0 && addressKey(p.words) !== addressKey(this.#peers.addr.subarray(i * 4, i * 4 + 4))) this.#peers.unbind(i);
    }
    for (const p of s.peers) this.#upsertPeer(p);
    for (const e of s.pins) this.#pin(e);
    this.#neigh.clear();
    for (const e of s.neighbors) this.#neigh.set(e.entry.vni, e.words, e.hi, e.lo);
    this.#ready = true;
  }

  #networkAdd(spec: NetworkSpec): void {
    const cur = this.#nets.lookup(spec.vni);
    if (cur >= 0) {
      const have = this.#nets.spec(cur)!;
      if (have.tapName === spec.tapName && have.name === spec.name) return;
      throw new OvnError('OVN_ERR_EXISTS', `network with VNI ${spec.vni} exists (as "${have.name}" on ${have.tapName})`);
    }
    const other = this.#nets.indices().find((n) => this.#nets.spec(n)!.tapName === spec.tapName);
    if (other !== undefined) throw new OvnError('OVN_ERR_EXISTS', `TAP ${spec.tapName} already carries VNI ${this.#nets.vni[other]}`);
    if (this.#nets.count >= this.#nets.maxNetworks) throw new OvnError('OVN_ERR_CAPACITY', `at most ${this.#nets.maxNetworks} networks`);
    this.#addNetwork(spec, this.#openTaps([spec])[0]);
  }

  #networkRemove(vni: number): void {
    const net = this.#nets.lookup(vni);
    if (net < 0) throw new OvnError('OVN_ERR_NOT_FOUND', `no network with VNI ${vni}`);
    this.#removeNetwork(net);
  }

  #peerSet(p: CheckedPeer): void {
    const index = this.#peers.indexOf(p.spec.id);
    const owner = this.#peers.lookup(p.words[0], p.words[1], p.words[2], p.words[3]);
    if (owner >= 0 && owner !== index) {
      throw new OvnError('OVN_ERR_EXISTS', `address ${p.spec.address} already belongs to peer "${this.#peers.idOf(owner)}"`);
    }
    if (index < 0 && this.#peers.count >= this.#peers.maxPeers) throw new OvnError('OVN_ERR_CAPACITY', `at most ${this.#peers.maxPeers} peers`);
    this.#upsertPeer(p);
  }

  #peerRemove(id: unknown): void {
    if (typeof id !== 'string') throw invalid('id must be a string');
    const index = this.#peers.indexOf(id);
    if (index < 0) throw new OvnError('OVN_ERR_NOT_FOUND', `no peer "${id}"`);
    this.#removePeer(index);
  }

  #neighSet(e: CheckedNeighbor): void {
    if (this.#nets.lookup(e.entry.vni) < 0) throw invalid(`neighbor ${e.entry.ip}: no network with VNI ${e.entry.vni}`);
    if (this.#neigh.lookup(e.entry.vni, e.words[0], e.words[1], e.words[2], e.words[3]) < 0 && this.#neigh.size >= this.#neigh.capacity) {
      throw new OvnError('OVN_ERR_CAPACITY', `all ${this.#neigh.capacity} neighbor entries are in use`);
    }
    this.#neigh.set(e.entry.vni, e.words, e.hi, e.lo);
  }

  #fdbPin(e: CheckedPin): void {
    checkPinTarget(e, this.#nets.lookup(e.vni) >= 0, this.#specs.get(e.peerId));
    if (!this.#fdb.get(e.vni, e.hi, e.lo)?.pinned && this.#fdb.pinnedCount >= this.#fdb.capacity) {
      throw new OvnError('OVN_ERR_CAPACITY', `all ${this.#fdb.capacity} fdb entries are pinned`);
    }
    this.#pin(e);
  }

  // State changes (after validation; these do not fail on checked input).

  #openTaps(specs: NetworkSpec[]): TapPort[] {
    const opened: TapPort[] = [];
    try {
      for (const s of specs) opened.push(this.#tapProvider.open(s.vni, s.tapName));
    } catch (e) {
      for (const t of opened) closeQuietly(t);
      throw e;
    }
    return opened;
  }

  #addNetwork(spec: NetworkSpec, tap: TapPort): void {
    const net = this.#nets.add(spec);
    this.#counters.resetNetwork(net);
    this.#gen[net]++;
    this.#taps[net] = tap;
    // Batches outlive their TAP and are reused, unless the new port needs another layout.
    const shape = tap.rxShape;
    if (!this.#tapBatches[net]?.fits(shape, this.#slotSize, this.#batchSize)) {
      this.#tapBatches[net] = new PacketBatch(shape?.capacity ?? this.#batchSize, shape?.slotSize ?? this.#slotSize, shape);
    }
    this.#fwd.attachTap(net, tap);
    for (const p of this.#specs.values()) if (p.vnis.includes(spec.vni)) this.#members.set(net, this.#peers.indexOf(p.id), true);
    this.#members.rebuild(net);
    if (this.#started) this.#startTap(net);
  }

  #removeNetwork(net: number): void {
    this.#detachTap(net);
    this.#fdb.flushVni(this.#nets.vni[net]);
    this.#neigh.flushVni(this.#nets.vni[net]);
    this.#members.clearNetwork(net);
    this.#nets.remove(net);
  }

  #startTap(net: number): void {
    const gen = this.#gen[net];
    this.#taps[net]!.start(this.#tapBatches[net]!, (b) => { if (this.#gen[net] === gen) this.#fwd.fromTap(net, b); });
  }

  #detachTap(net: number): void {
    this.#gen[net]++;
    const tap = this.#taps[net];
    this.#taps[net] = null;
    this.#fwd.detachTap(net);
    if (tap) closeQuietly(tap);
  }

  #upsertPeer(p: CheckedPeer): void {
    const { spec, words, canonical } = p;
    let index = this.#peers.indexOf(spec.id);
    const old = this.#specs.get(spec.id);
    if (index < 0) {
      index = this.#peers.add(spec.id, spec.address, words, spec.port);
      this.#underlay.setPeer(index, canonical, spec.port);
    } else {
      const moved = addressKey(words) !== addressKey(this.#peers.addr.subarray(index * 4, index * 4 + 4));
      if (moved || spec.port !== this.#peers.portOf(index) || !this.#peerBound(index)) {
        this.#peers.bind(index, spec.address, words, spec.port);
        this.#underlay.setPeer(index, canonical, spec.port);
      }
      const left = old!.vnis.filter((v) => !spec.vnis.includes(v));
      if (left.length > 0) this.#fdb.flushPeerInVnis(index, left);
    }
    this.#specs.set(spec.id, spec);
    for (const net of this.#nets.indices()) {
      if (this.#members.set(net, index, spec.vnis.includes(this.#nets.vni[net]))) this.#members.rebuild(net);
    }
  }

  #peerBound(index: number): boolean {
    const a = this.#peers.addr;
    return this.#peers.lookup(a[index * 4], a[index * 4 + 1], a[index * 4 + 2], a[index * 4 + 3]) === index;
  }

  #removePeer(index: number): void {
    this.#fdb.flushPeer(index, true);
    for (const net of this.#members.networksOf(index)) {
      this.#members.set(net, index, false);
      this.#members.rebuild(net);
    }
    this.#underlay.clearPeer(index);
    this.#specs.delete(this.#peers.idOf(index)!);
    this.#peers.remove(index);
  }

  #pin(e: CheckedPin): void {
    const evicted = this.#fdb.pin(e.vni, e.hi, e.lo, this.#peers.indexOf(e.peerId), this.#clock.now());
    if (evicted) this.#counters.global[G_FDB_EVICTED]++;
  }
}

/** COLD PATH: four address words back to text (IPv4 for ::ffff:a.b.c.d). */
function wordsToIp(w: readonly number[]): string {
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return [w[3] >>> 24, (w[3] >>> 16) & 0xff, (w[3] >>> 8) & 0xff, w[3] & 0xff].join('.');
  const groups = w.flatMap((x) => [(x >>> 16).toString(16), (x & 0xffff).toString(16)]).join(':');
  return canonicalAddress(groups) ?? groups;
}

function closeQuietly(tap: TapPort): void {
  try {
    tap.close();
  } catch {
    // A port that fails to close has nothing left for us to undo; the state must move on.
  }
}
