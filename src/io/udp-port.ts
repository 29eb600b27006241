/**
 * UnderlayPort over the addon's UDP handle. Receives on one listening socket; sends from a
 * pool of sockets on ports 49152-65535 picked by the batch's flow hash (RFC 7348 section 5),
 * so the outer source port follows the inner flow and ECMP keeps each flow on one path.
 *
 * With `offload`: sends take lists whose entries may be TCP super-frames read from an offload
 * TAP (segmented natively and sent with UDP GSO, every datagram within maxDatagram), and
 * receives use UDP_GRO, delivered split back into datagrams (PacketBatch.off).
 */
import {
  HEADROOM, OFFLOAD_SLOT_SIZE, type BatchShape, type PacketBatch, type PacketList, type PortStats, type UnderlayPort,
} from '../dataplane/ports.js';
import { OvnError } from '../lib/errors.js';
import type { UdpHandle } from '../../native/index.js';
import { loadNative, nativeCall } from './native.js';

export interface UnderlayOpenOptions {
  /** Numeric IPv4 or IPv6 address to bind; its family is the underlay's. */
  address: string;
  /** Listening port (4789 for VXLAN); 0 for an ephemeral one (tests). */
  port: number;
  /** Socket buffer requests in bytes; default 4 MiB each. */
  rcvbuf?: number;
  sndbuf?: number;
  /** Size of the source-port pool; default 8; 0 sends from the listening port. */
  srcPorts?: number;
  /** UDP GSO sends with TCP segmentation, UDP GRO receives. */
  offload?: boolean;
  /** Largest UDP payload the underlay MTU carries; see setMaxDatagram. */
  maxDatagram?: number;
  /** SO_REUSEPORT: several ports (one per worker) on one UDP port. */
  reusePort?: boolean;
}

/** Datagrams one GRO read may hold at most (UDP_MAX_SEGMENTS on recent kernels). */
const GRO_PACKETS_PER_SLOT = 128;

export interface UnderlayStats {
  rx: PortStats;
  tx: PortStats;
  /** Effective socket buffer sizes as the kernel reports them. */
  rcvbuf: number;
  sndbuf: number;
  offload: { gso: boolean; gro: boolean; maxDatagram: number; txMessages: number; txGsoMessages: number;
    txSegmented: number; txBadOffload: number; rxAggregates: number; rxDropped: number } | undefined;
}

export class NativeUnderlayPort implements UnderlayPort {
  readonly localPort: number;
  readonly address: string;
  readonly rxShape: BatchShape | undefined;
  readonly #h: UdpHandle;
  readonly #offload: boolean;
  #started = false;

  private constructor(h: UdpHandle, address: string, offload: boolean) {
    this.#h = h;
    this.address = address;
    this.localPort = h.localPort;
    this.#offload = offload;
    this.rxShape = offload ? { slotSize: OFFLOAD_SLOT_SIZE, packetsPerSlot: GRO_PACKETS_PER_SLOT } : undefined;
  }

  /** COLD PATH. Throws OvnError (OVN_ERR_PERMISSION, OVN_ERR_INVALID, OVN_ERR_NATIVE). */
  static open(opts: UnderlayOpenOptions): NativeUnderlayPort {
    const native = loadNative();
    const { offload, ...rest } = opts;
    const h = nativeCall(() => native.udpOpen({ ...rest, gro: !!offload }));
    return new NativeUnderlayPort(h, opts.address, !!offload);
  }

  /** COLD PATH: the largest UDP payload the underlay MTU carries (MTU - 28 for IPv4, - 48 for IPv6). */
  setMaxDatagram(bytes: number): void {
    nativeCall(() => this.#h.setMaxDatagram(bytes));
  }

  start(batch: PacketBatch, onBatch: (batch: PacketBatch) => void): void {
    if (this.#started) throw new OvnError('OVN_ERR_INTERNAL', 'underlay: start() called twice');
    const deliver = (count: number): void => {
      batch.count = count;
      onBatch(batch);
    };
    if (this.#offload && batch.off === null) throw new OvnError('OVN_ERR_INTERNAL', 'underlay: offload needs a batch with packet offsets');
    const off = batch.off ?? undefined;
    nativeCall(() =>
      this.#h.startRecv(batch.buf, batch.slotSize, HEADROOM, batch.capacity, batch.len, batch.srcAddr, batch.srcPort, deliver, off),
    );
    this.#started = true;
  }

  /** COLD PATH. index 0..65535; the address family must match the underlay's. */
  setPeer(index: number, address: string, port: number): void {
    nativeCall(() => this.#h.setPeer(index, address, port));
  }

  clearPeer(index: number): void {
    nativeCall(() => this.#h.clearPeer(index));
  }

  // HOT PATH
  send(list: PacketList): number {
    if (!this.#offload) return this.#h.send(list.buf, list.count, list.off, list.len, list.peer, list.flow);
    const vnet = list.vnet;
    return this.#h.sendOffload(list.buf, list.count, list.off, list.len, list.peer, list.flow, vnet, vnet === null ? null : list.vnetIdx);
  }

  /** The pool's source ports; entry i of a send uses sourcePorts()[flow[i] % length]. */
  sourcePorts(): number[] {
    return this.#h.sourcePorts();
  }

  stats(): UnderlayStats {
    const s = this.#h.stats();
    return {
      rx: { packets: s.rxPackets, bytes: s.rxBytes, errors: s.rxErrors, truncated: s.rxTruncated },
      tx: { packets: s.txPackets, bytes: s.txBytes, errors: s.txErrors, truncated: 0 },
      rcvbuf: s.rcvbuf,
      sndbuf: s.sndbuf,
      offload: this.#offload ? {
        gso: s.gso, gro: s.gro, maxDatagram: s.maxDatagram, txMessages: s.txMessages, txGsoMessages: s.txGsoMessages,
        txSegmented: s.txSegmented, txBadOffload: s.txBadOffload, rxAggregates: s.rxAggregates, rxDropped: s.rxDropped,
      } : undefined,
    };
  }

  /** Idempotent. */
  close(): void {
    this.#h.close();
  }
}
