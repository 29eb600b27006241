/**
 * Turns desired states into device changes and ordered data-plane commands, one state at a
 * time (after libnetwork's peerOperation loop): states are queued, only the newest pending
 * one is applied, and the very first application is a full 'snapshot' command.
 *
 * Device work (bridge, TAP) happens BEFORE the command that adds a network and AFTER the
 * command that removes one, so the data plane never references a device that does not exist.
 * A network whose devices cannot be made is reported and retried on the next state; the
 * others go ahead.
 */
import type { Logger } from '../lib/log.js';
import type { DataplaneCommand, NetworkSpec } from '../dataplane/commands.js';
import type { TapPort } from '../dataplane/ports.js';
import { normalize, networkChanged, peerChanged, type DesiredNetwork, type DesiredState } from './desired-state.js';

export interface DeviceOps {
  /** Creates (idempotently) the bridge and TAP of a network and returns the open TAP port. */
  setup(net: DesiredNetwork): Promise<{ tap: TapPort; spec: NetworkSpec; mtu: number }>;
  /** Removes the network's devices (TAP port already closed by the data plane). */
  teardown(vni: number): Promise<void>;
}

export interface CommandSink {
  apply(cmd: DataplaneCommand): void;
}

export interface AppliedNetwork {
  net: DesiredNetwork;
  spec: NetworkSpec;
  mtu: number;
}

export class Reconciler {
  readonly #ops: DeviceOps;
  readonly #sink: CommandSink;
  readonly #log: Logger;
  readonly #taps = new Map<number, TapPort>();
  #current: DesiredState | undefined;
  readonly #networks = new Map<number, AppliedNetwork>();
  #pending: DesiredState | undefined;
  #running: Promise<void> | undefined;
  failures = 0;

  constructor(ops: DeviceOps, sink: CommandSink, log: Logger) {
    this.#ops = ops;
    this.#sink = sink;
    this.#log = log;
  }

  /** TAP ports opened for networks; the data plane's TapProvider hands these out. */
  tapFor(vni: number): TapPort | undefined {
    return this.#taps.get(vni);
  }

  networks(): AppliedNetwork[] {
    return [...this.#networks.values()];
  }

  current(): DesiredState | undefined {
    return this.#current;
  }

  /** Queues a state; resolves once it (or a newer one) has been applied. */
  submit(state: DesiredState): Promise<void> {
    this.#pending = normalize(state);
    if (!this.#running) this.#running = this.#drain().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const next = this.#pending;
      this.#pending = undefined;
      await this.#apply(next);
    }
  }

  async #apply(want: DesiredState): Promise<void> {
    const first = this.#current === undefined;
    const ready = await this.#setupNetworks(want.networks);
    const networks = want.networks.filter((n) => ready.has(n.vni));
    const vnis = new Set(networks.map((n) => n.vni));
    // Peers and pins may only name networks that exist on this host.
    const effective: DesiredState = {
      networks,
      peers: want.peers.map((p) => ({ ...p, vnis: p.vnis.filter((v) => vnis.has(v)) })),
      pinned: want.pinned.filter((e) => vnis.has(e.vni)),
      neighbors: (want.neighbors ?? []).filter((e) => vnis.has(e.vni)),
    };
    if (first) this.#applySnapshot(effective);
    else this.#applyDelta(this.#current!, effective);
    await this.#teardownRemoved(vnis);
    this.#current = effective;
  }

  async #setupNetworks(nets: DesiredNetwork[]): Promise<Set<number>> {
    const ok = new Set<number>();
    for (const net of nets) {
      const have = this.#networks.get(net.vni);
      if (have && !networkChanged(have.net, net)) { ok.add(net.vni); continue; }
      if (have) { // changed (e.g. MTU): re-run the idempotent setup, keep the open TAP
        try { await this.#ops.setup(net); have.net = net; ok.add(net.vni); } catch (e) { this.#fail(net, e); ok.add(net.vni); }
        continue;
      }
      try {
        const { tap, spec, mtu } = await this.#ops.setup(net);
        this.#taps.set(net.vni, tap);
        this.#networks.set(net.vni, { net, spec, mtu });
        ok.add(net.vni);
      } catch (e) {
        this.#fail(net, e);
      }
    }
    return ok;
  }

  #fail(net: DesiredNetwork, e: unknown): void {
    this.failures++;
    this.#log.error({ err: e, network: net.name, vni: net.vni }, 'cannot set up network devices; will retry on the next change');
  }

  #spec(vni: number): NetworkSpec {
    return this.#networks.get(vni)!.spec;
  }

  #applySnapshot(s: DesiredState): void {
    this.#sink.apply({ kind: 'snapshot', networks: s.networks.map((n) => this.#spec(n.vni)), peers: s.peers, pinned: s.pinned, neighbors: s.neighbors ?? [] });
  }

  #applyDelta(cur: DesiredState, want: DesiredState): void {
    const wantV = new Set(want.networks.map((n) => n.vni));
    const curV = new Set(cur.networks.map((n) => n.vni));
    const wantPeers = new Map(want.peers.map((p) => [p.id, p]));
    const curPeers = new Map(cur.peers.map((p) => [p.id, p]));
    const wantPins = new Map(want.pinned.map((e) => [`${e.vni}/${e.mac}`, e]));
    // Order matters: drop stale pins and peers first, then networks; add networks before the
    // peers and pins that refer to them.
    for (const e of cur.pinned) if (!wantPins.has(`${e.vni}/${e.mac}`) && wantV.has(e.vni)) this.#sink.apply({ kind: 'fdb-unpin', vni: e.vni, mac: e.mac });
    this.#removeStaleNeighbors(cur, want, wantV);
    for (const p of cur.peers) if (!wantPeers.has(p.id)) this.#sink.apply({ kind: 'peer-remove', id: p.id });
    for (const n of cur.networks) if (!wantV.has(n.vni)) this.#sink.apply({ kind: 'network-remove', vni: n.vni });
    for (const n of want.networks) if (!curV.has(n.vni)) this.#sink.apply({ kind: 'network-add', network: this.#spec(n.vni) });
    for (const p of want.peers) {
      const old = curPeers.get(p.id);
      if (!old || peerChanged(old, p)) this.#sink.apply({ kind: 'peer-set', peer: p });
    }
    const curPins = new Map(cur.pinned.map((e) => [`${e.vni}/${e.mac}`, e]));
    for (const [k, e] of wantPins) {
      const old = curPins.get(k);
      if (!old || old.peerId !== e.peerId || !curV.has(e.vni)) this.#sink.apply({ kind: 'fdb-pin', entry: e });
    }
    this.#setNeighbors(cur, want, curV);
  }

  /** Neighbours gone from networks that stay (a removed network takes its own along). */
  #removeStaleNeighbors(cur: DesiredState, want: DesiredState, wantV: Set<number>): void {
    const keep = new Set((want.neighbors ?? []).map((e) => `${e.vni}/${e.ip}`));
    for (const e of cur.neighbors ?? []) if (!keep.has(`${e.vni}/${e.ip}`) && wantV.has(e.vni)) this.#sink.apply({ kind: 'neigh-remove', vni: e.vni, ip: e.ip });
  }

  /** New or changed neighbours, and all of a network that was (re-)added. */
  #setNeighbors(cur: DesiredState, want: DesiredState, curV: Set<number>): void {
    const have = new Map((cur.neighbors ?? []).map((e) => [`${e.vni}/${e.ip}`, e.mac]));
    for (const e of want.neighbors ?? []) {
      if (have.get(`${e.vni}/${e.ip}`) !== e.mac || !curV.has(e.vni)) this.#sink.apply({ kind: 'neigh-set', entry: e });
    }
  }

  async #teardownRemoved(keep: Set<number>): Promise<void> {
    for (const vni of [...this.#networks.keys()]) {
      if (keep.has(vni)) continue;
      this.#networks.delete(vni);
      this.#taps.delete(vni);
      try {
        await this.#ops.teardown(vni);
      } catch (e) {
        this.#log.warn({ err: e, vni }, 'could not remove network devices');
      }
    }
  }
}
