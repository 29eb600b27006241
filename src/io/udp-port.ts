/**
 * UnderlayPort over the addon's UDP handle. Receives on one listening socket; sends from a
 * pool of sockets on ports 49152-65535 picked by the batch's flow hash (RFC 7348 section 5),
 * so the outer source port follows the inner flow and ECMP keeps each flow on one path.
 */
import { HEADROOM, type PacketBatch, type PacketList, type PortStats, type UnderlayPort } from '../dataplane/ports.js';
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
}

export interface UnderlayStats {
  rx: PortStats;
  tx: PortStats;
  /** Effective socket buffer sizes as the kernel reports them. */
  rcvbuf: number;
  sndbuf: number;
}

export class NativeUnderlayPort implements UnderlayPort {
  readonly localPort: number;
  readonly address: string;
  readonly #h: UdpHandle;
  #started = false;

  private constructor(h: UdpHandle, address: string) {
    this.#h = h;
    this.address = address;
    this.localPort = h.localPort;
  }

  /** COLD PATH. Throws OvnError (OVN_ERR_PERMISSION, OVN_ERR_INVALID, OVN_ERR_NATIVE). */
  static open(opts: UnderlayOpenOptions): NativeUnderlayPort {
    const native = loadNative();
    return new NativeUnderlayPort(nativeCall(() => native.udpOpen({ ...opts })), opts.address);
  }

  start(batch: PacketBatch, onBatch: (batch: PacketBatch) => void): void {
    if (this.#started) throw new OvnError('OVN_ERR_INTERNAL', 'underlay: start() called twice');
    const deliver = (count: number): void => {
      batch.count = count;
      onBatch(batch);
    };
    nativeCall(() =>
      this.#h.startRecv(batch.buf, batch.slotSize, HEADROOM, batch.capacity, batch.len, batch.srcAddr, batch.srcPort, deliver),
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
    return this.#h.send(list.buf, list.count, list.off, list.len, list.peer, list.flow);
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
    };
  }

  /** Idempotent. */
  close(): void {
    this.#h.close();
  }
}
