/**
 * Keeps this host's endpoints in step with the store and with the host (COLD PATH). Runs in the
 * endpoint service's serial queue whenever the agent's store view changes (polled by its
 * generation counter, every POLL_MS) and in full every FULL_MS:
 *
 * - an endpoint of ours whose document left the store is published again if its network still
 *   exists and its address is still free (it was reclaimed while this host was away, or the store
 *   lost it); otherwise (`rm --force`, or the address went to another endpoint) it loses its
 *   devices here. A just-attached or re-published endpoint is given FRESH_MS for its document to
 *   reach the view before that rule applies to it;
 * - a document of ours with no record (a previous life's, or one whose delete failed) is deleted;
 * - an endpoint whose veth vanished (its namespace was deleted, the host rebooted) is released;
 * - endpoints of a host whose registration is gone (TTL expired) and stays gone for the grace
 *   period are reclaimed by whichever surviving agent gets there first (CAS delete: the others'
 *   deletes then find nothing);
 * - hosts files of attached namespaces are rewritten when the names they should list change.
 *
 * Store-dependent steps run only while the store is healthy and the view has been filled, so an
 * outage never deletes anything.
 */
import type { EndpointDoc, HostDoc, NetworkDoc } from '../control/documents.js';
import { bridgeName } from '../host/names.js';
import { listLinks, setLink } from '../host/links.js';
import type { EndpointService } from './endpoints.js';
import { describeTarget, recordKey, type EndpointRecord, type EndpointTarget } from './endpoint-records.js';
import type { HostsEntry } from './hosts-file.js';

export const POLL_MS = 500;
export const FULL_MS = 5000;
export const FRESH_MS = 30_000;

/** What the sync reads of the agent's ClusterView. */
export interface ClusterViewLike {
  readonly networks: Map<string, NetworkDoc>;
  readonly hosts: Map<string, HostDoc>;
  /** Key -> document. */
  readonly endpoints: Map<string, EndpointDoc>;
  readonly generation: number;
}

function docOf(r: EndpointRecord, host: string): EndpointDoc {
  const doc: EndpointDoc = { version: 1, network: r.network, ip: r.ip, mac: r.mac, host, createdAt: new Date().toISOString() };
  if (r.name !== undefined) doc.name = r.name;
  return doc;
}

export class EndpointSync {
  readonly #svc: EndpointService;
  /** Host id -> when its endpoints were first seen without a live registration. */
  readonly #goneSince = new Map<string, number>();
  /** Records whose document the view has shown as ours. */
  readonly #confirmed = new Set<string>();
  /** Records attached in this run -> when. */
  readonly #fresh = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #lastGen = -1;
  #lastFull = -Infinity;
  #queued = false;
  now: () => number = () => Date.now();

  constructor(svc: EndpointService) {
    this.#svc = svc;
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), POLL_MS);
    this.#timer.unref();
    this.#tick();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  attached(r: EndpointRecord): void {
    this.#fresh.set(recordKey(r), this.now());
  }

  #tick(): void {
    const gen = this.#svc.ctx.view?.generation ?? 0;
    const full = this.now() - this.#lastFull >= FULL_MS;
    if ((gen === this.#lastGen && !full) || this.#queued) return;
    this.#queued = true;
    void this.#svc.serial(() => this.run(full)).finally(() => { this.#queued = false; });
  }

  /** One pass (see the file comment); `full` adds the device check. */
  async run(full: boolean): Promise<void> {
    const { view, log } = this.#svc.ctx;
    this.#lastGen = view?.generation ?? 0;
    if (full) this.#lastFull = this.now();
    try {
      if (view && view.generation > 0 && this.#svc.ctx.storeHealthy()) {
        await this.#followStore(view);
        await this.#reclaimGone(view);
      }
      if (full) await this.#checkDevices();
      for (const ns of this.#svc.records.namespaces()) this.writeHostsFor({ netns: ns });
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'endpoint sync failed; will retry');
    }
  }

  async #followStore(view: ClusterViewLike): Promise<void> {
    const { hostId, keys, log } = this.#svc.ctx;
    for (const r of this.#svc.records.all()) {
      const k = recordKey(r);
      const doc = view.endpoints.get(keys.endpoint(r.network, r.ip));
      if (doc && doc.host === hostId) {
        this.#confirmed.add(k);
        this.#fresh.delete(k);
        continue;
      }
      const since = this.#fresh.get(k);
      if (!this.#confirmed.has(k) && since !== undefined && this.now() - since < FRESH_MS) continue;
      this.#confirmed.delete(k);
      if (!doc && view.networks.get(r.network)?.vni === r.vni && (await this.#svc.registry.restore(docOf(r, hostId)))) {
        // Reclaimed while this host was away (or lost by the store), and nobody took the address since.
        log.warn({ network: r.network, ip: r.ip }, 'endpoint was missing from the store: published it again');
        this.#fresh.set(k, this.now());
        continue;
      }
      log.warn({ network: r.network, ip: r.ip, owner: doc?.host }, 'endpoint no longer in the store (network removed, or its address taken): detaching it');
      this.#fresh.delete(k);
      await this.#svc.dropLocal(r, false);
    }
    for (const doc of view.endpoints.values()) {
      if (doc.host === hostId && !this.#svc.records.get(doc.network, doc.ip)) await this.#releaseStale(doc);
    }
  }

  /** Our documents in `network` that no endpoint here backs (read from the store, not the view). */
  async releaseOwnStale(network: string): Promise<void> {
    for (const { doc } of await this.#svc.registry.list(network)) {
      if (doc.host === this.#svc.ctx.hostId && !this.#svc.records.get(doc.network, doc.ip)) await this.#releaseStale(doc);
    }
  }

  async #releaseStale(doc: EndpointDoc): Promise<void> {
    if (await this.#svc.registry.release(doc.network, doc.ip, { host: this.#svc.ctx.hostId })) {
      this.#svc.ctx.log.info({ network: doc.network, ip: doc.ip }, 'released an endpoint of this host that no longer exists');
    }
  }

  async #reclaimGone(view: ClusterViewLike): Promise<void> {
    const { hostId, graceMs, log } = this.#svc.ctx;
    const now = this.now();
    const orphans = new Map<string, EndpointDoc[]>();
    for (const doc of view.endpoints.values()) {
      if (doc.host === hostId || view.hosts.has(doc.host)) continue;
      orphans.set(doc.host, [...(orphans.get(doc.host) ?? []), doc]);
    }
    for (const h of [...this.#goneSince.keys()]) if (!orphans.has(h)) this.#goneSince.delete(h);
    for (const [host, docs] of orphans) {
      const since = this.#goneSince.get(host) ?? now;
      this.#goneSince.set(host, since);
      if (now - since < graceMs) continue;
      let n = 0;
      for (const d of docs) if (await this.#svc.registry.release(d.network, d.ip, { host })) n++;
      if (n > 0) log.info({ host, endpoints: n }, 'reclaimed the endpoints of a host gone for good');
    }
  }

  /** Endpoints whose veth is gone are released; a veth that lost its bridge rejoins it. */
  async #checkDevices(): Promise<void> {
    if (this.#svc.records.all().length === 0) return;
    const links = new Map((await listLinks()).map((l) => [l.name, l]));
    for (const r of this.#svc.records.all()) {
      const link = links.get(r.hostIf);
      if (!link) {
        this.#svc.ctx.log.warn({ network: r.network, ip: r.ip, target: describeTarget(r.target) }, 'endpoint veth is gone (namespace deleted?): releasing its address');
        this.#confirmed.delete(recordKey(r));
        await this.#svc.dropLocal(r, true);
        continue;
      }
      const br = bridgeName(r.vni);
      if (link.master !== br && links.has(br)) await setLink(r.hostIf, ['master', br, 'up']);
    }
  }

  /** Rewrites (or removes) the hosts file of a named namespace; failures are logged, never thrown. */
  writeHostsFor(t: EndpointTarget): void {
    if (t.netns === undefined) return;
    const files = this.#svc.hostsFiles;
    try {
      const mine = this.#svc.records.all().filter((r) => r.target.netns === t.netns);
      if (mine.length === 0) return files.remove(t.netns);
      const entries = this.#namesFor(new Set(mine.map((r) => r.network)));
      if (!files.unchanged(t.netns, entries)) files.write(t.netns, entries);
    } catch (e) {
      this.#svc.ctx.log.warn({ netns: t.netns, err: (e as Error).message }, 'cannot update the namespace hosts file');
    }
  }

  /** Named endpoints of these networks: "NAME" and "NAME.NETWORK". */
  #namesFor(networks: Set<string>): HostsEntry[] {
    const byKey = new Map<string, { ip: string; name: string; network: string }>();
    for (const d of this.#svc.ctx.view?.endpoints.values() ?? []) {
      if (d.name !== undefined && networks.has(d.network)) byKey.set(`${d.network}/${d.ip}`, { ip: d.ip, name: d.name, network: d.network });
    }
    for (const r of this.#svc.records.all()) {
      if (r.name !== undefined && networks.has(r.network)) byKey.set(recordKey(r), { ip: r.ip, name: r.name, network: r.network });
    }
    return [...byKey.values()].map((e) => ({ ip: e.ip, names: [e.name, `${e.name}.${e.network}`] }));
  }
}
