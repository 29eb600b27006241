/**
 * TapPort over the addon's TAP handle: one native crossing per batch in each direction.
 * The device is created non-persistent in the caller's network namespace by TUNSETIFF; if a
 * device of that name exists with compatible flags (e.g. made by `ip tuntap add`), the
 * kernel attaches to it instead, and closing then leaves it in place.
 *
 * With `offload` the TAP carries a 12-byte virtio_net_hdr and the kernel may hand over TCP
 * super-frames of up to 64 KB (TSO4/TSO6) with checksums left partial (CSUM); the underlay port
 * segments them and completes the checksums, and writes coalesce TCP segments back into
 * super-frames (native/src/tap_vnet.cc).
 */
import {
  HEADROOM, OFFLOAD_SLOT_SIZE, VNET_HDR_LEN, type BatchShape, type PacketBatch, type PacketList, type PortStats, type TapPort,
} from '../dataplane/ports.js';
import { OvnError } from '../lib/errors.js';
import type { TapHandle } from '../../native/index.js';
import { loadNative, nativeCall } from './native.js';

const TAP_OFFLOAD_BATCH = 16;

export interface TapOpenOptions {
  /** IFF_VNET_HDR: frames carry a virtio_net_hdr (offload work; the data plane must expect it). */
  vnetHdr?: boolean;
  /** IFF_MULTI_QUEUE: one queue per handle on the same device. */
  multiQueue?: boolean;
  /** vnetHdr with a 12-byte header and TUNSETOFFLOAD CSUM|TSO4|TSO6 (see above). */
  offload?: boolean;
}

export interface TapOffloadStats {
  rxSuperFrames: number;
  txSuperFrames: number;
  txCoalesced: number;
}

export class NativeTapPort implements TapPort {
  readonly name: string;
  readonly rxShape: BatchShape | undefined;
  readonly #h: TapHandle;
  #started = false;

  private constructor(h: TapHandle, vnet: boolean) {
    this.#h = h;
    this.name = h.name;
    // 64 KB slots: a batch of 16 super-frames is 1 MB per network, and plenty per wakeup.
    this.rxShape = vnet ? { slotSize: OFFLOAD_SLOT_SIZE, vnetHdr: true, capacity: TAP_OFFLOAD_BATCH } : undefined;
  }

  /** COLD PATH. Throws OvnError (OVN_ERR_PERMISSION, OVN_ERR_INVALID, OVN_ERR_NATIVE). */
  static open(name: string, opts: TapOpenOptions = {}): NativeTapPort {
    const native = loadNative();
    const vnetHdr = !!(opts.vnetHdr || opts.offload);
    const h = nativeCall(() => native.tapOpen(name, { vnetHdr, multiQueue: opts.multiQueue }));
    if (opts.offload) {
      try {
        nativeCall(() => h.setVnetHdrSize(VNET_HDR_LEN));
        const f = native.tunOffload;
        try {
          nativeCall(() => h.setOffload(f.CSUM | f.TSO4 | f.TSO6));
        } catch {
          // A kernel without TSO on TAPs: frames come one by one (writes still coalesce).
          nativeCall(() => h.setOffload(0));
        }
      } catch (e) {
        h.close();
        throw e;
      }
    }
    return new NativeTapPort(h, vnetHdr);
  }

  start(batch: PacketBatch, onBatch: (batch: PacketBatch) => void): void {
    if (this.#started) throw new OvnError('OVN_ERR_INTERNAL', `TAP ${this.name}: start() called twice`);
    // One closure for the life of the port, not per batch.
    const deliver = (count: number): void => {
      batch.count = count;
      onBatch(batch);
    };
    if (this.rxShape && batch.vnet === null) throw new OvnError('OVN_ERR_INTERNAL', `TAP ${this.name}: the batch has no vnet headers`);
    nativeCall(() => this.#h.startRead(batch.buf, batch.slotSize, HEADROOM, batch.capacity, batch.len, deliver, batch.vnet));
    this.#started = true;
  }

  // HOT PATH
  write(list: PacketList): number {
    return this.#h.write(list.buf, list.count, list.off, list.len);
  }

  /** TUNSETOFFLOAD (TUN_F_* flags, see loadNative().tunOffload); needs vnetHdr. */
  setOffload(flags: number): void {
    nativeCall(() => this.#h.setOffload(flags));
  }

  /** TUNSETVNETHDRSZ. */
  setVnetHdrSize(size: number): void {
    nativeCall(() => this.#h.setVnetHdrSize(size));
  }

  stats(): { rx: PortStats; tx: PortStats } {
    const s = this.#h.stats();
    return {
      rx: { packets: s.rxPackets, bytes: s.rxBytes, errors: s.rxErrors, truncated: s.rxTruncated },
      tx: { packets: s.txPackets, bytes: s.txBytes, errors: s.txErrors, truncated: 0 },
    };
  }

  offloadStats(): TapOffloadStats {
    const s = this.#h.stats();
    return { rxSuperFrames: s.rxSuperFrames, txSuperFrames: s.txSuperFrames, txCoalesced: s.txCoalesced };
  }

  /** Idempotent. A device this port created disappears. */
  close(): void {
    this.#h.close();
  }
}
