/**
 * The networks this host carries: network index <-> VNI, the prebuilt VXLAN header of each
 * (written into the headroom of every frame sent), and the spec it was added with.
 */
import { OvnError } from '../lib/errors.js';
import type { NetworkSpec } from './commands.js';
import { VniTable } from './vni-table.js';
import { buildVxlanHeader, VXLAN_HLEN } from './vxlan.js';

export class NetworkTable {
  readonly maxNetworks: number;
  /** VNI per network index. */
  readonly vni: Uint32Array;
  /** Network n's VXLAN header at [8n, 8n+8). */
  readonly headers: Uint8Array;
  readonly #byVni: VniTable;
  readonly #specs: (NetworkSpec | undefined)[];
  #count = 0;

  constructor(maxNetworks: number) {
    this.maxNetworks = maxNetworks;
    this.vni = new Uint32Array(maxNetworks);
    this.headers = new Uint8Array(maxNetworks * VXLAN_HLEN);
    this.#byVni = new VniTable(maxNetworks);
    this.#specs = new Array<NetworkSpec | undefined>(maxNetworks).fill(undefined);
  }

  get count(): number {
    return this.#count;
  }

  /** Network index of a VNI, or -1. */
  // HOT PATH
  lookup(vni: number): number {
    return this.#byVni.lookup(vni);
  }

  // COLD PATH from here on.

  spec(net: number): NetworkSpec | undefined {
    return this.#specs[net];
  }

  /** Indices in use, ascending. */
  indices(): number[] {
    const out: number[] = [];
    for (let n = 0; n < this.maxNetworks; n++) if (this.#specs[n]) out.push(n);
    return out;
  }

  /** Adds a network at the lowest free index and returns it. */
  add(spec: NetworkSpec): number {
    if (this.lookup(spec.vni) >= 0) throw new OvnError('OVN_ERR_EXISTS', `network with VNI ${spec.vni} exists`);
    const net = this.#specs.indexOf(undefined);
    if (net < 0) throw new OvnError('OVN_ERR_CAPACITY', `at most ${this.maxNetworks} networks`);
    this.#specs[net] = { ...spec };
    this.vni[net] = spec.vni;
    buildVxlanHeader(spec.vni, this.headers, net * VXLAN_HLEN);
    this.#byVni.set(spec.vni, net);
    this.#count++;
    return net;
  }

  rename(net: number, name: string): void {
    const s = this.#specs[net];
    if (s) s.name = name;
  }

  remove(net: number): void {
    const s = this.#specs[net];
    if (!s) return;
    this.#byVni.delete(s.vni);
    this.#specs[net] = undefined;
    this.#count--;
  }
}
