/**
 * TapPort over the addon's TAP handle: one native crossing per batch in each direction.
 * The device is created non-persistent in the caller's network namespace by TUNSETIFF; if a
 * device of that name exists with compatible flags (e.g. made by `ip tuntap add`), the
 * kernel attaches to it instead, and closing then leaves it in place.
 */
import { HEADROOM, type PacketBatch, type PacketList, type PortStats, type TapPort } from '../dataplane/ports.js';
import { OvnError } from '../lib/errors.js';
import type { TapHandle } from '../../native/index.js';
import { loadNative, nativeCall } from './native.js';

export interface TapOpenOptions {
  /** IFF_VNET_HDR: frames carry a virtio_net_hdr (offload work; the data plane must expect it). */
  vnetHdr?: boolean;
  /** IFF_MULTI_QUEUE: one queue per handle on the same device. */
  multiQueue?: boolean;
}

export class NativeTapPort implements TapPort {
  readonly name: string;
  readonly #h: TapHandle;
  #started = false;

  private constructor(h: TapHandle) {
    this.#h = h;
    this.name = h.name;
  }

  /** COLD PATH. Throws OvnError (OVN_ERR_PERMISSION, OVN_ERR_INVALID, OVN_ERR_NATIVE). */
  static open(name: string, opts: TapOpenOptions = {}): NativeTapPort {
    const native = loadNative();
    return new NativeTapPort(nativeCall(() => native.tapOpen(name, opts)));
  }

  start(batch: PacketBatch, onBatch: (batch: PacketBatch) => void): void {
    if (this.#started) throw new OvnError('OVN_ERR_INTERNAL', `TAP ${this.name}: start() called twice`);
    // One closure for the life of the port, not per batch.
    const deliver = (count: number): void => {
      batch.count = count;
      onBatch(batch);
    };
    nativeCall(() => this.#h.startRead(batch.buf, batch.slotSize, HEADROOM, batch.capacity, batch.len, deliver));
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

  /** Idempotent. A device this port created disappears. */
  close(): void {
    this.#h.close();
  }
}
