/**
 * A one-machine lab: hosts are network namespaces joined by an underlay switch (a bridge in
 * its own namespace); endpoints are namespaces attached to a host's overlay bridge by veth.
 * Used by `ovnetd lab`, the namespace tests and the benchmark, so all three build the same
 * topology. Nothing is created in the root namespace: veth pairs are made directly with both
 * ends inside lab namespaces.
 *
 *      e1 (endpoint)          e2 (endpoint)          eN
 *        | eth0                 | eth0                 |
 *   [h1: ovbr-VNI+ovtap]   [h2: ovbr-VNI+ovtap]   [hN ...]        overlay (VXLAN)
 *        | u0 192.168.77.1      | u0 .2                | .N
 *   ------------------ sw: bridge sw0 ---------------------------  underlay
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { OvnError } from '../lib/errors.js';

export interface LabHost {
  index: number;
  ns: string;
  underlayIp: string;
  underlayIf: string;
}

export interface LabEndpoint {
  ns: string;
  host: number;
  ip: string;
  prefix: number;
  mac: string;
  hostIf: string;
}

export interface TopologyOptions {
  hosts: number;
  family?: 4 | 6;
  /** Underlay link MTU (default 1500). */
  mtu?: number;
}

export function run(argv: string[], timeoutMs = 30_000): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new OvnError('OVN_ERR_IPROUTE', `${argv.join(' ')}: ${(err.stderr ?? err.message).trim().split('\n').pop()}`);
  }
}

export function underlayAddress(family: 4 | 6, i: number): string {
  return family === 4 ? `192.168.77.${i}` : `fd77::${i.toString(16)}`;
}

export class Topology {
  readonly prefix: string;
  readonly family: 4 | 6;
  readonly hosts: LabHost[] = [];
  readonly endpoints: LabEndpoint[] = [];
  readonly #children = new Set<ChildProcess>();
  readonly #opts: TopologyOptions;

  /** `prefix` names every namespace (<prefix>-sw, <prefix>-h1, ...); keep it short and unique. */
  constructor(prefix: string, opts: TopologyOptions) {
    if (!/^[a-z][a-z0-9]{1,9}$/.test(prefix)) throw new OvnError('OVN_ERR_INVALID', `lab prefix "${prefix}" must be 2-10 lowercase letters/digits`);
    this.prefix = prefix;
    this.family = opts.family ?? 4;
    this.#opts = opts;
  }

  get switchNs(): string {
    return `${this.prefix}-sw`;
  }

  hostNs(i: number): string {
    return `${this.prefix}-h${i}`;
  }

  /** Makes the switch and the host namespaces. Undoes everything if a step fails. */
  create(): this {
    try {
      this.#addNs(this.switchNs);
      run(['ip', '-n', this.switchNs, 'link', 'add', 'sw0', 'type', 'bridge']);
      run(['ip', '-n', this.switchNs, 'link', 'set', 'sw0', 'up']);
      for (let i = 1; i <= this.#opts.hosts; i++) this.#addHost(i);
    } catch (e) {
      this.destroy();
      throw e;
    }
    return this;
  }

  #addNs(ns: string): void {
    run(['ip', 'netns', 'add', ns]);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }

  #addHost(i: number): void {
    const ns = this.hostNs(i);
    this.#addNs(ns);
    const swIf = `p${i}`;
    run(['ip', 'link', 'add', 'u0', 'netns', ns, 'type', 'veth', 'peer', 'name', swIf, 'netns', this.switchNs]);
    const mtu = String(this.#opts.mtu ?? 1500);
    run(['ip', '-n', this.switchNs, 'link', 'set', swIf, 'mtu', mtu, 'master', 'sw0', 'up']);
    const ip = underlayAddress(this.family, i);
    run(['ip', '-n', ns, 'link', 'set', 'u0', 'mtu', mtu, 'up']);
    run(['ip', '-n', ns, 'addr', 'add', `${ip}/${this.family === 4 ? 24 : 64}`, 'dev', 'u0', ...(this.family === 6 ? ['nodad'] : [])]);
    this.hosts.push({ index: i, ns, underlayIp: ip, underlayIf: 'u0' });
  }

  /**
   * A namespace attached to host i's bridge ovbr-<vni> (which the agent must have made).
   * The MAC is locally administered and derived from the index, so tests can predict it.
   */
  addEndpoint(host: number, vni: number, ip: string, prefix: number, opts: { mtu?: number; name?: string; ipv6?: boolean } = {}): LabEndpoint {
    const n = this.endpoints.length + 1;
    const ns = opts.name ? `${this.prefix}-${opts.name}` : `${this.prefix}-e${n}`;
    const hostIf = `ve${n}`;
    const mac = `02:0e:00:00:${(host & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
    this.#addNs(ns);
    // Without IPv6 an endpoint sends no DAD/RS/MLD multicast, for tests that count frames.
    if (opts.ipv6 === false) run(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    const hns = this.hostNs(host);
    run(['ip', 'link', 'add', 'eth0', 'netns', ns, 'address', mac, 'type', 'veth', 'peer', 'name', hostIf, 'netns', hns]);
    // Endpoints take the overlay's MTU: the bridge drops frames larger than its TAP's MTU.
    const mtu = String(opts.mtu ?? this.#bridgeMtu(hns, vni));
    // The bridge port itself needs no IPv6 address (and would otherwise probe into the overlay).
    run(['ip', '-n', hns, 'link', 'set', hostIf, 'addrgenmode', 'none']);
    run(['ip', '-n', hns, 'link', 'set', hostIf, 'mtu', mtu, 'master', `ovbr-${vni}`, 'up']);
    run(['ip', '-n', ns, 'link', 'set', 'eth0', 'mtu', mtu]);
    run(['ip', '-n', ns, 'addr', 'add', `${ip}/${prefix}`, 'dev', 'eth0', ...(ip.includes(':') ? ['nodad'] : [])]);
    run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    const ep = { ns, host, ip, prefix, mac, hostIf };
    this.endpoints.push(ep);
    return ep;
  }

  #bridgeMtu(ns: string, vni: number): number {
    const [link] = JSON.parse(run(['ip', '-n', ns, '-j', 'link', 'show', `ovbr-${vni}`])) as { mtu: number }[];
    return link.mtu;
  }

  exec(ns: string, argv: string[], timeoutMs = 30_000): string {
    return run(['ip', 'netns', 'exec', ns, ...argv], timeoutMs);
  }

  /** Starts a process inside a lab namespace; destroy() kills it by PID. */
  spawn(ns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  namespaces(): string[] {
    return [this.switchNs, ...this.hosts.map((h) => h.ns), ...this.endpoints.map((e) => e.ns)];
  }

  /** Kills the lab's processes and deletes its namespaces (veths go with them). Safe twice. */
  destroy(): void {
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null && c.pid) {
      try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    this.#children.clear();
    for (const ns of [...this.endpoints.map((e) => e.ns), ...this.hosts.map((h) => h.ns), this.switchNs]) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not there */ }
    }
    this.endpoints.length = 0;
    this.hosts.length = 0;
  }
}
