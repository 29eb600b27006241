/**
 * Composition root: wires the data plane to its ports (io/), the host devices (host/), the
 * control socket and the source of desired state (static configuration, or the store).
 * Start order is chosen so that a failure leaves nothing half-made: validate, claim the
 * control socket, bind the underlay, then make devices.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '../lib/log.js';
import { systemClock } from '../lib/clock.js';
import { OvnError } from '../lib/errors.js';
import { parseIp } from '../lib/ip.js';
import { Dataplane } from '../dataplane/dataplane.js';
import { HEADROOM, VXLAN_HEADER_LEN, type TapPort } from '../dataplane/ports.js';
import type { KvStore } from '../control/store/kv-store.js';
import { openStore } from '../control/store/store-url.js';
import { KeyLayout, HOST_ID_RE } from '../control/keys.js';
import { ClusterSource } from './cluster-source.js';
import type { DesiredState } from './desired-state.js';
import { NativeUnderlayPort } from '../io/udp-port.js';
import { DataplaneWorkers, fanOut } from '../io/dataplane-workers.js';
import { ServiceNotifier } from './systemd.js';
import { CAP_NET_ADMIN, hasEffectiveCapability } from '../host/capabilities.js';
import { addressOfInterface, underlayMtuFor, overlayMtu } from '../host/mtu.js';
import { parseMetricsAddress, type AgentConfig } from './config.js';
import type { Server } from 'node:http';
import { ControlServer } from './control-socket.js';
import { Reconciler } from './reconciler.js';
import { hostDeviceOps, removeLeftovers } from './devices.js';
import { staticDesiredState } from './static-peers.js';
import { registerAgentMethods } from './agent-methods.js';
import { EndpointService } from './endpoints.js';

export const VERSION = '0.1.0';
const TICK_MS = 1000;
/** Ethernet header plus one 802.1Q tag. */
const L2_OVERHEAD = 18;

export interface UnderlayInfo { address: string; listen: string; port: number; mtu: number; family: 4 | 6 }

export class Agent {
  readonly cfg: AgentConfig;
  readonly log: Logger;
  readonly started = Date.now();
  dataplane!: Dataplane;
  reconciler!: Reconciler;
  underlay!: NativeUnderlayPort;
  workers: DataplaneWorkers | undefined;
  underlayInfo!: UnderlayInfo;
  hostId = '';
  store: KvStore | undefined;
  cluster: ClusterSource | undefined;
  endpoints: EndpointService | undefined;
  #control: ControlServer;
  #timer: NodeJS.Timeout | undefined;
  #metrics: Server | undefined;
  #stopping = false;
  readonly #service = new ServiceNotifier();

  private constructor(cfg: AgentConfig, log: Logger) {
    this.cfg = cfg;
    this.log = log;
    this.#control = new ControlServer(cfg.controlSocket);
  }

  static async start(cfg: AgentConfig, log: Logger): Promise<Agent> {
    const agent = new Agent(cfg, log);
    try {
      await agent.#start();
    } catch (e) {
      await agent.stop();
      throw e;
    }
    return agent;
  }

  async #start(): Promise<void> {
    const cfg = this.cfg;
    if (!hasEffectiveCapability(CAP_NET_ADMIN)) {
      throw new OvnError('OVN_ERR_PERMISSION', 'the agent needs CAP_NET_ADMIN to make bridges and TAP devices: run it as root, or as a user granted the capability (AmbientCapabilities=CAP_NET_ADMIN in scripts/ovnetd.service)');
    }
    const address = cfg.advertise ?? (await addressOfInterface(cfg.advertiseInterface!));
    const family = parseIp(address)!.family;
    const listen = cfg.listen ?? address;
    mkdirSync(cfg.stateDir, { recursive: true });
    this.hostId = cfg.store ? loadHostId(cfg.stateDir) : address;
    await this.#control.listen();
    // Data-plane threads (io/dataplane-workers.ts); 1 unless OVNETD_WORKERS asks for more.
    const workerCount = Math.max(1, Math.min(16, Number(process.env.OVNETD_WORKERS) || 1));
    this.underlay = NativeUnderlayPort.open({ address: listen, port: cfg.port, srcPorts: cfg.sourcePorts, offload: cfg.offload, reusePort: workerCount > 1 });
    const mtu = await this.#underlayMtu(address, listen);
    // Segments of a super-frame must each fit the underlay MTU (outer IPv4 + UDP: 28 bytes, IPv6: 48).
    if (cfg.offload) this.underlay.setMaxDatagram(mtu - (family === 4 ? 28 : 48));
    this.underlayInfo = { address, listen, port: cfg.port, mtu, family };
    const taps = { open: (vni: number): TapPort => {
      const t = this.reconciler.tapFor(vni);
      if (!t) throw new OvnError('OVN_ERR_DEVICE', `no TAP was set up for VNI ${vni}`);
      return t;
    } };
    const maxMtu = Math.max(overlayMtu(mtu, family), ...cfg.networks.map((n) => n.mtu ?? 0));
    // A slot holds the largest frame plus headroom and the VXLAN header, rounded to 64 bytes.
    const slotSize = Math.ceil((HEADROOM + VXLAN_HEADER_LEN + L2_OVERHEAD + maxMtu) / 64) * 64;
    this.dataplane = new Dataplane({
      underlay: this.underlay, taps, clock: systemClock,
      fdbCapacity: cfg.fdbCapacity, fdbAgeMs: cfg.fdbAgeSeconds * 1000, slotSize,
    });
    if (workerCount > 1) {
      this.workers = await DataplaneWorkers.start(workerCount - 1, {
        listen, port: cfg.port, srcPorts: cfg.sourcePorts, offload: cfg.offload, maxDatagram: mtu - (family === 4 ? 28 : 48),
        slotSize, fdbCapacity: cfg.fdbCapacity, fdbAgeMs: cfg.fdbAgeSeconds * 1000,
      }, (message) => this.log.error({ message }, 'data-plane worker could not apply a command'));
    }
    const ops = hostDeviceOps({ defaultMtu: overlayMtu(mtu, family), maxMtu, log: this.log, offload: cfg.offload, multiQueue: workerCount > 1 });
    this.reconciler = new Reconciler(ops, fanOut(this.dataplane, this.workers), this.log);
    const stateFile = join(cfg.stateDir, 'last-state.json');
    const desired = cfg.store ? ClusterSource.loadSaved(stateFile, this.log) ?? { networks: [], peers: [], pinned: [] } : staticDesiredState(cfg);
    await removeLeftovers(new Set(desired.networks.map((n) => n.vni)), this.log);
    await this.reconciler.submit(desired);
    if (!cfg.store && this.reconciler.failures > 0) throw new OvnError('OVN_ERR_DEVICE', 'could not set up the configured networks (see the log above)');
    this.dataplane.start();
    if (cfg.store) await this.#joinCluster(address, stateFile);
    const metricsAddr = parseMetricsAddress(cfg.metrics);
    if (metricsAddr) {
      const { buildRegistry, serveMetrics } = await import('./metrics.js'); // prom-client only when asked for
      this.#metrics = await serveMetrics(buildRegistry(this.#metricsSource()), metricsAddr);
    }
    this.#timer = setInterval(() => this.dataplane.tick(), TICK_MS);
    // Methods answer only once the agent forwards: 'status' answering means ready.
    this.endpoints = EndpointService.forAgent(this);
    registerAgentMethods(this.#control, this);
    this.#service.ready(`forwarding: ${desired.networks.length} networks, ${desired.peers.length} peers, underlay ${address}:${cfg.port}`);
    this.log.info({ address, listen, port: cfg.port, underlayMtu: mtu, networks: desired.networks.length, peers: desired.peers.length }, 'agent ready');
  }

  async #joinCluster(address: string, stateFile: string): Promise<void> {
    const cfg = this.cfg;
    this.store = await openStore(cfg.store!, { token: cfg.storeToken });
    this.cluster = new ClusterSource({
      store: this.store, keys: new KeyLayout(cfg.storePrefix), clock: systemClock, log: this.log, stateFile,
      ttlSeconds: cfg.registrationTtlSeconds,
      self: { version: 1, id: this.hostId, address, port: cfg.port, agentVersion: VERSION, startedAt: new Date().toISOString() },
      submit: (s: DesiredState) => this.reconciler.submit(s),
    });
    this.cluster.start();
  }

  #metricsSource() {
    return {
      counters: () => this.dataplane.counters(),
      store: () => {
        const h = this.cluster?.healthReport();
        return { configured: !!this.cluster, healthy: h?.health === 'ok', watchErrors: h?.watchErrors ?? 0, corruptEntries: h?.corruptEntries ?? 0 };
      },
    };
  }

  async #underlayMtu(address: string, listen: string): Promise<number> {
    for (const a of [address, listen]) {
      try {
        return await underlayMtuFor(a);
      } catch { /* not a local address (NAT, wildcard): try the next */ }
    }
    this.log.warn({ address }, 'cannot find the underlay interface; assuming MTU 1500');
    return 1500;
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#service.stopping();
    if (this.#timer) clearInterval(this.#timer);
    await this.#control.close();
    await this.endpoints?.stop();
    if (this.#metrics) await new Promise((r) => this.#metrics!.close(r));
    await this.cluster?.stop();
    await this.store?.close().catch(() => undefined);
    await this.workers?.close();
    this.dataplane?.close();
    this.underlay?.close();
    this.log.info('agent stopped');
  }
}

/** A random id kept in the state directory, so a restarted agent is the same host. */
function loadHostId(stateDir: string): string {
  const file = join(stateDir, 'host-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (HOST_ID_RE.test(id)) return id;
  } catch { /* first start */ }
  const id = `h-${randomBytes(6).toString('hex')}`;
  writeFileSync(file, `${id}\n`);
  return id;
}

export async function runAgent(cfg: AgentConfig): Promise<void> {
  const log = createLogger({ level: cfg.logLevel });
  const agent = await Agent.start(cfg, log);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => { log.info({ signal: sig }, 'stopping'); resolve(); };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  await agent.stop();
  process.exit(0);
}
