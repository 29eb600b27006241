/**
 * The agent's view of the cluster, built from store watch events: valid networks, live hosts
 * and endpoints. Corrupted or foreign entries are skipped (reported once, counted) so they
 * never hide the valid ones. Pure: no I/O, no timers; the clock is passed in.
 *
 * Hold-down: after the store comes back from an outage (a 'reset' that follows watch errors),
 * hosts may be missing only because their registrations lapsed while the store was down; they
 * re-register within a TTL. Removals seen during the hold-down are deferred until it ends, so
 * forwarding does not blink. Outside a hold-down a vanished host is removed at once.
 */
import type { KvEntry, WatchEvent } from '../control/store/kv-store.js';
import type { KeyLayout } from '../control/keys.js';
import {
  CorruptionReporter, decodeEndpoint, decodeHost, decodeNetwork, type EndpointDoc, type HostDoc, type NetworkDoc,
} from '../control/documents.js';
import type { NeighborEntry, PeerSpec, PinnedEntry } from '../dataplane/commands.js';
import type { DesiredState } from './desired-state.js';

export class ClusterView {
  readonly #keys: KeyLayout;
  readonly #selfId: string;
  readonly reporter: CorruptionReporter;
  readonly networks = new Map<string, NetworkDoc>();
  readonly hosts = new Map<string, HostDoc>();
  /** Key -> endpoint. */
  readonly endpoints = new Map<string, EndpointDoc>();
  /** Hosts gone during a hold-down, kept as peers until `holdUntil`. */
  readonly #held = new Map<string, HostDoc>();
  #holdUntil = 0;
  /** Bumped by every apply(), so pollers (daemon/endpoints.ts) notice changes cheaply. */
  generation = 0;

  constructor(keys: KeyLayout, selfId: string, reporter: CorruptionReporter) {
    this.#keys = keys;
    this.#selfId = selfId;
    this.reporter = reporter;
  }

  /** Applies one event. `recovering` marks a reset that follows an outage. */
  apply(e: WatchEvent, now: number, opts: { recovering?: boolean; holdMs?: number } = {}): void {
    this.generation++;
    if (e.type === 'reset') {
      const oldHosts = new Map(this.hosts);
      this.networks.clear();
      this.hosts.clear();
      this.endpoints.clear();
      for (const entry of e.entries) this.#put(entry);
      if (opts.recovering && opts.holdMs) {
        this.#holdUntil = now + opts.holdMs;
        for (const [id, h] of oldHosts) if (!this.hosts.has(id)) this.#held.set(id, h);
      }
      return;
    }
    if (e.type === 'put') return this.#put(e.entry);
    this.#delete(e.key, now);
  }

  #put(entry: KvEntry): void {
    const k = this.#keys;
    if (k.parseNetworkKey(entry.key) !== undefined) {
      const d = decodeNetwork(k, entry.key, entry.value);
      return d.ok ? void (this.#forget(entry.key), this.networks.set(d.value.name, d.value)) : this.#corrupt(entry.key, d.reason, () => this.networks.delete(k.parseNetworkKey(entry.key)!));
    }
    const hostId = k.parseHostKey(entry.key);
    if (hostId !== undefined) {
      const d = decodeHost(k, entry.key, entry.value);
      if (!d.ok) return this.#corrupt(entry.key, d.reason, () => this.hosts.delete(hostId));
      this.#forget(entry.key);
      this.hosts.set(hostId, d.value);
      this.#held.delete(hostId);
      return;
    }
    if (k.parseEndpointKey(entry.key) !== undefined) {
      const d = decodeEndpoint(k, entry.key, entry.value);
      return d.ok ? void (this.#forget(entry.key), this.endpoints.set(entry.key, d.value)) : this.#corrupt(entry.key, d.reason, () => this.endpoints.delete(entry.key));
    }
    // Locks and anything else under the prefix are not part of the view.
  }

  #delete(key: string, now: number): void {
    this.reporter.forget(key);
    const k = this.#keys;
    const name = k.parseNetworkKey(key);
    if (name !== undefined) { this.networks.delete(name); return; }
    const hostId = k.parseHostKey(key);
    if (hostId !== undefined) {
      const h = this.hosts.get(hostId);
      this.hosts.delete(hostId);
      if (h && now < this.#holdUntil) this.#held.set(hostId, h);
      return;
    }
    this.endpoints.delete(key);
  }

  #corrupt(key: string, reason: string, drop: () => void): void {
    drop();
    this.reporter.report(key, reason);
  }

  #forget(key: string): void {
    this.reporter.forget(key);
  }

  /** When the current hold-down ends (0: none); the caller re-evaluates then. */
  holdUntil(now: number): number {
    if (now >= this.#holdUntil) {
      this.#held.clear();
      return 0;
    }
    return this.#holdUntil;
  }

  desired(now: number): DesiredState {
    this.holdUntil(now);
    const networks = [...this.networks.values()].map((n) => ({ name: n.name, vni: n.vni, subnet: n.subnet, mtu: n.mtu }));
    const vnis = networks.map((n) => n.vni);
    const hosts = new Map([...this.#held, ...this.hosts]);
    hosts.delete(this.#selfId);
    const peers: PeerSpec[] = [...hosts.values()].map((h) => ({ id: h.id, address: h.address, port: h.port, vnis }));
    return { networks, peers, pinned: this.#pinned(hosts), neighbors: this.#neighbors(hosts) };
  }

  /** Endpoints on other live hosts are pinned to those hosts: unicast from the first frame. */
  #pinned(hosts: Map<string, HostDoc>): PinnedEntry[] {
    const out: PinnedEntry[] = [];
    for (const ep of this.endpoints.values()) {
      const net = this.networks.get(ep.network);
      if (!net || ep.host === this.#selfId || !hosts.has(ep.host)) continue;
      out.push({ vni: net.vni, mac: ep.mac, peerId: ep.host });
    }
    return out;
  }

  /** The same endpoints' addresses: ARP/ND for them is answered locally (suppression). */
  #neighbors(hosts: Map<string, HostDoc>): NeighborEntry[] {
    const out: NeighborEntry[] = [];
    for (const ep of this.endpoints.values()) {
      const net = this.networks.get(ep.network);
      if (!net || ep.host === this.#selfId || !hosts.has(ep.host)) continue;
      out.push({ vni: net.vni, ip: ep.ip, mac: ep.mac });
    }
    return out;
  }
}
