/**
 * Endpoints of this host: `ovnetd attach / detach / endpoints` over the control socket.
 *
 * attach: claim an address in the store (create-only CAS, control/endpoints.ts; the document is
 * published complete, MAC included, since the MAC derives from the address), re-check that the
 * network still exists, then make the devices (daemon/endpoint-devices.ts) and record where they
 * live (endpoint-records.ts). Any failure undoes the earlier steps, so a refused attach changes
 * nothing. detach: devices first, then the document, so the address is never handed to someone
 * else while this host still answers for it.
 *
 * Mutations run one at a time (a promise chain), and so does the reconciliation loop
 * (endpoint-sync.ts) that follows the store: endpoints deleted there (rm --force) lose their
 * devices here, this host's documents from a previous life are released, and endpoints of hosts
 * gone for good (registration expired + grace) are reclaimed.
 *
 * Static mode (no store): the same code over a file in the state directory. There is no
 * cluster-wide view of addresses then, so attach requires an explicit --ip (the operator is the
 * IPAM, as for static peers); names resolve only among this host's endpoints.
 */
import { join } from 'node:path';
import { OvnError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { parseIp, type ParsedSubnet } from '../lib/ip.js';
import { KeyLayout } from '../control/keys.js';
import { decodeNetwork, type EndpointDoc } from '../control/documents.js';
import { checkEndpointName, compareEndpoints, ENDPOINT_NAME_RE, EndpointRegistry, FileKv, type EndpointKv } from '../control/endpoints.js';
import { subnetOf } from '../control/ipam.js';
import { endpointVethNames, validateIfName, validateNetnsName } from '../host/names.js';
import type { ControlServer } from './control-socket.js';
import type { Agent } from './agent.js';
import { EndpointRecords, describeTarget, type EndpointRecord, type EndpointTarget } from './endpoint-records.js';
import { bridgeMtu, checkIfnameFree, checkTarget, plugEndpoint, unplugEndpoint } from './endpoint-devices.js';
import { HostsFiles } from './hosts-file.js';
import { EndpointSync, type ClusterViewLike } from './endpoint-sync.js';

export const DEFAULT_ENDPOINT_GRACE_SECONDS = 60;
export const DEFAULT_IFNAME = 'eth0';

/** One endpoint as `ovnetd endpoints` shows it. */
export interface EndpointRow {
  network: string;
  ip: string;
  mac: string;
  host: string;
  name?: string;
  /** This host's endpoint: where it lives. */
  local: boolean;
  namespace?: string;
  pid?: number;
  ifname?: string;
}

export interface AttachResult extends EndpointRow {
  prefix: number;
}

export interface AttachRequest {
  network: string;
  target: EndpointTarget;
  name?: string;
  ip?: string;
  ifname: string;
}

export interface LocalNetwork {
  name: string;
  vni: number;
  subnet?: string;
}

export interface EndpointContext {
  hostId: string;
  stateDir: string;
  log: Logger;
  keys: KeyLayout;
  /** The cluster store, or a FileKv in static mode. */
  kv: EndpointKv;
  clustered: boolean;
  /** Networks whose devices exist on this host. */
  localNetworks(): LocalNetwork[];
  /** Clustered: the agent's view of the store (networks, hosts, endpoints). */
  view?: ClusterViewLike;
  storeHealthy(): boolean;
  graceMs: number;
  hosts?: HostsFiles;
}

export class EndpointService {
  readonly ctx: EndpointContext;
  readonly registry: EndpointRegistry;
  readonly records: EndpointRecords;
  readonly hostsFiles: HostsFiles;
  readonly sync: EndpointSync;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: EndpointContext) {
    this.ctx = ctx;
    this.registry = new EndpointRegistry(ctx.kv, ctx.keys);
    this.records = new EndpointRecords(ctx.stateDir, ctx.log);
    this.hostsFiles = ctx.hosts ?? new HostsFiles();
    this.sync = new EndpointSync(this);
  }

  /** Wires the service to a running agent and starts following the store. */
  static forAgent(agent: Agent): EndpointService {
    const cfg = agent.cfg as Agent['cfg'] & { endpointGraceSeconds?: number };
    const svc = new EndpointService({
      hostId: agent.hostId, stateDir: cfg.stateDir, log: agent.log, keys: new KeyLayout(cfg.storePrefix),
      kv: agent.store ?? new FileKv(join(cfg.stateDir, 'static-endpoints.json')),
      clustered: agent.store !== undefined,
      localNetworks: () => agent.reconciler.networks().map((n) => ({ name: n.net.name, vni: n.net.vni, subnet: n.net.subnet })),
      view: agent.cluster?.view,
      storeHealthy: () => agent.cluster?.healthReport().health === 'ok',
      graceMs: (cfg.endpointGraceSeconds ?? DEFAULT_ENDPOINT_GRACE_SECONDS) * 1000,
    });
    svc.sync.start();
    return svc;
  }

  async stop(): Promise<void> {
    this.sync.stop();
    await this.#chain.catch(() => undefined);
  }

  /** Runs `fn` after every mutation queued before it. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async attach(params: Record<string, unknown>): Promise<AttachResult> {
    const req = parseAttach(params);
    return this.serial(() => this.#attach(req));
  }

  async detach(params: Record<string, unknown>): Promise<EndpointRow[]> {
    const network = checkNetworkParam(params.network);
    const target = parseTarget(params);
    return this.serial(() => this.#detach(network, target));
  }

  list(params: Record<string, unknown>): EndpointRow[] {
    const network = params.network === undefined || params.network === null ? undefined : checkNetworkParam(params.network);
    const rows = new Map<string, EndpointRow>();
    if (this.ctx.view) {
      for (const d of this.ctx.view.endpoints.values()) rows.set(`${d.network}/${d.ip}`, this.#row(d));
    }
    for (const r of this.records.all()) rows.set(`${r.network}/${r.ip}`, recordRow(r, this.ctx.hostId));
    return [...rows.values()].filter((r) => network === undefined || r.network === network).sort(compareEndpoints);
  }

  #row(d: EndpointDoc): EndpointRow {
    const r = d.host === this.ctx.hostId ? this.records.get(d.network, d.ip) : undefined;
    if (r) return recordRow(r, this.ctx.hostId);
    return withName({ network: d.network, ip: d.ip, mac: d.mac, host: d.host, local: false }, d.name);
  }

  async #attach(req: AttachRequest): Promise<AttachResult> {
    const net = this.#network(req.network);
    const subnet = subnetOf(net.name, net.subnet);
    checkTarget(req.target);
    const have = this.records.find(req.network, req.target);
    if (have) throw new OvnError('OVN_ERR_EXISTS', `${describeTarget(req.target)} is already attached to network "${req.network}" (${have.ip} on ${have.ifname})`);
    await checkIfnameFree(req.target, req.ifname);
    if (!this.ctx.clustered && req.ip === undefined) {
      throw new OvnError('OVN_ERR_USAGE', 'this agent has no store, so there is no cluster-wide address management: give the address with --ip');
    }
    const name = req.name ?? defaultName(req.target);
    if (this.ctx.clustered) await this.sync.releaseOwnStale(req.network);
    const claimed = await this.registry.claim({ network: req.network, subnet: subnet.cidr, host: this.ctx.hostId, name, ip: req.ip });
    const doc = claimed.doc;
    let record: EndpointRecord;
    try {
      await this.#checkNetworkStill(net);
      record = await this.#plug(net, subnet, doc, req);
    } catch (e) {
      await this.registry.release(doc.network, doc.ip, { modifyIndex: claimed.modifyIndex }).catch(() => false);
      throw e;
    }
    this.records.add(record);
    this.sync.attached(record);
    this.sync.writeHostsFor(record.target);
    this.ctx.log.info({ network: doc.network, ip: doc.ip, mac: doc.mac, target: describeTarget(req.target), ifname: req.ifname }, 'endpoint attached');
    return { ...recordRow(record, this.ctx.hostId), prefix: subnet.prefix };
  }

  /** The devices of a claimed endpoint, and the record of where they live. */
  async #plug(net: LocalNetwork, subnet: ParsedSubnet, doc: EndpointDoc, req: AttachRequest): Promise<EndpointRecord> {
    const { hostIf, peerIf } = endpointVethNames(net.vni, `${doc.network}/${doc.ip}`);
    const mtu = await bridgeMtu(net.vni);
    await plugEndpoint({
      vni: net.vni, hostIf, peerIf, target: req.target, ifname: req.ifname, mtu,
      cidr: `${doc.ip}/${subnet.prefix}`, family: subnet.family, mac: doc.mac,
    }, this.ctx.log);
    return {
      network: doc.network, vni: net.vni, ip: doc.ip, prefix: subnet.prefix, mac: doc.mac, target: req.target, ifname: req.ifname, hostIf,
      attachedAt: new Date().toISOString(), ...(doc.name === undefined ? {} : { name: doc.name }),
    };
  }

  async #detach(network: string, target: EndpointTarget): Promise<EndpointRow[]> {
    const r = this.records.find(network, target);
    if (!r) throw new OvnError('OVN_ERR_NOT_FOUND', `${describeTarget(target)} is not attached to network "${network}" on this host`);
    await this.dropLocal(r, true);
    return [recordRow(r, this.ctx.hostId)];
  }

  /**
   * Removes an endpoint's devices and record, then (if asked) its document. A document that
   * cannot be deleted now (store down) is released later by the sync loop: it then belongs to
   * this host but has no record.
   */
  async dropLocal(r: EndpointRecord, releaseDoc: boolean): Promise<void> {
    try {
      await unplugEndpoint(r.hostIf);
    } catch (e) {
      this.ctx.log.warn({ hostIf: r.hostIf, err: (e as Error).message }, 'could not remove the endpoint veth');
    }
    this.records.remove(r.network, r.ip);
    if (releaseDoc) {
      try {
        await this.registry.release(r.network, r.ip, { host: this.ctx.hostId });
      } catch (e) {
        this.ctx.log.warn({ network: r.network, ip: r.ip, err: (e as Error).message }, 'could not delete the endpoint from the store; will retry');
      }
    }
    this.sync.writeHostsFor(r.target);
    this.ctx.log.info({ network: r.network, ip: r.ip, target: describeTarget(r.target) }, 'endpoint detached');
  }

  #network(name: string): LocalNetwork {
    const net = this.ctx.localNetworks().find((n) => n.name === name);
    if (net) return net;
    if (this.ctx.view?.networks.has(name)) throw new OvnError('OVN_ERR_NOT_FOUND', `network "${name}" is not set up on this host yet; retry in a moment`, { retryable: true });
    throw new OvnError('OVN_ERR_NOT_FOUND', `no network named "${name}"`);
  }

  /** A network removed (or re-created) while the address was claimed would orphan the claim. */
  async #checkNetworkStill(net: LocalNetwork): Promise<void> {
    if (!this.ctx.clustered) return;
    const key = this.ctx.keys.network(net.name);
    const entry = await this.ctx.kv.get(key);
    const doc = entry ? decodeNetwork(this.ctx.keys, key, entry.value) : undefined;
    if (!doc?.ok || doc.value.vni !== net.vni) throw new OvnError('OVN_ERR_NOT_FOUND', `network "${net.name}" was removed while attaching`);
  }
}

/** attach, detach, endpoints, and neighbors (the addresses answered locally, for tests and doctor). */
export function registerEndpointMethods(server: ControlServer, agent: Agent): void {
  const svc = (agent as Agent & { endpoints?: EndpointService }).endpoints;
  if (!svc) return;
  server
    .handle('attach', (p) => svc.attach(p))
    .handle('detach', (p) => svc.detach(p))
    .handle('endpoints', (p) => svc.list(p))
    .handle('neighbors', () => agent.dataplane.neighborDump());
}

function recordRow(r: EndpointRecord, host: string): EndpointRow {
  const row: EndpointRow = { network: r.network, ip: r.ip, mac: r.mac, host, local: true, ifname: r.ifname };
  if (r.target.netns !== undefined) row.namespace = r.target.netns;
  else row.pid = r.target.pid;
  return withName(row, r.name);
}

function withName(row: EndpointRow, name: string | undefined): EndpointRow {
  return name === undefined ? row : { ...row, name };
}

function defaultName(t: EndpointTarget): string | undefined {
  return t.netns !== undefined && ENDPOINT_NAME_RE.test(t.netns) ? t.netns : undefined;
}

function checkNetworkParam(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new OvnError('OVN_ERR_USAGE', 'a network name is required');
  return v;
}

export function parseTarget(p: Record<string, unknown>): EndpointTarget {
  const hasNs = p.netns !== undefined && p.netns !== null;
  const hasPid = p.pid !== undefined && p.pid !== null;
  if (hasNs === hasPid) throw new OvnError('OVN_ERR_USAGE', 'give exactly one of --netns NAME or --pid PID');
  if (hasNs) {
    if (typeof p.netns !== 'string') throw new OvnError('OVN_ERR_INVALID', 'netns must be a string');
    return { netns: validateNetnsName(p.netns) };
  }
  const pid = typeof p.pid === 'string' && /^\d{1,10}$/.test(p.pid) ? Number(p.pid) : p.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) throw new OvnError('OVN_ERR_INVALID', `pid ${JSON.stringify(p.pid)} is not a positive integer`);
  return { pid };
}

export function parseAttach(p: Record<string, unknown>): AttachRequest {
  const network = checkNetworkParam(p.network);
  const target = parseTarget(p);
  const ifname = p.ifname === undefined || p.ifname === null ? DEFAULT_IFNAME : String(p.ifname);
  validateIfName(ifname);
  const req: AttachRequest = { network, target, ifname };
  if (p.name !== undefined && p.name !== null) req.name = checkEndpointName(p.name);
  if (p.ip !== undefined && p.ip !== null) {
    if (typeof p.ip !== 'string' || !parseIp(p.ip.trim())) throw new OvnError('OVN_ERR_INVALID', `${JSON.stringify(p.ip)} is not an IP address`);
    req.ip = p.ip.trim();
  }
  return req;
}
