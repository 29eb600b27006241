/**
 * In-memory TAP ports. inject() plays the kernel: it copies frames into the port's batch and
 * calls onBatch synchronously; write() copies each listed frame out (the port only borrows the
 * list, see ports.ts), so tests may inspect `written` after the data plane reused its buffers.
 */
import { HEADROOM, type PacketBatch, type PacketList, type PortStats, type TapPort, type TapProvider } from '../../src/dataplane/ports.js';

function zeroStats(): PortStats {
  return { packets: 0, bytes: 0, errors: 0, truncated: 0 };
}

export class FakeTapPort implements TapPort {
  readonly name: string;
  readonly vni: number;
  /** Copies of frames written by the data plane, oldest first. */
  readonly written: Buffer[] = [];
  /** When > 0, the next writes refuse that many frames in total (as EAGAIN would). */
  refuseWrites = 0;
  closed = false;
  #batch: PacketBatch | undefined;
  #onBatch: ((b: PacketBatch) => void) | undefined;
  readonly #rx = zeroStats();
  readonly #tx = zeroStats();

  constructor(name: string, vni = 0) {
    this.name = name;
    this.vni = vni;
  }

  get started(): boolean {
    return this.#batch !== undefined;
  }

  start(batch: PacketBatch, onBatch: (batch: PacketBatch) => void): void {
    if (this.#batch) throw new Error(`${this.name}: start called twice`);
    this.#batch = batch;
    this.#onBatch = onBatch;
  }

  /** Frames "read from the device", delivered in batches of the batch's capacity. */
  inject(...frames: Uint8Array[]): void {
    const batch = this.#batch;
    if (!batch || !this.#onBatch) throw new Error(`${this.name}: not started`);
    if (this.closed) return;
    for (let from = 0; from < frames.length; from += batch.capacity) {
      const chunk = frames.slice(from, from + batch.capacity);
      batch.count = 0;
      for (const f of chunk) {
        if (f.length > batch.slotSize - HEADROOM) {
          this.#rx.truncated++;
          continue;
        }
        const i = batch.count++;
        batch.buf.set(f, batch.packetOffset(i));
        batch.len[i] = f.length;
        this.#rx.packets++;
        this.#rx.bytes += f.length;
      }
      if (batch.count > 0) this.#onBatch(batch);
    }
  }

  write(list: PacketList): number {
    let n = 0;
    for (let k = 0; k < list.count; k++) {
      if (this.closed || this.refuseWrites > 0) {
        if (this.refuseWrites > 0) this.refuseWrites--;
        this.#tx.errors++;
        continue;
      }
      this.written.push(Buffer.from(list.buf.subarray(list.off[k], list.off[k] + list.len[k])));
      this.#tx.packets++;
      this.#tx.bytes += list.len[k];
      n++;
    }
    return n;
  }

  /** Returns and forgets what was written so far. */
  take(): Buffer[] {
    return this.written.splice(0, this.written.length);
  }

  stats(): { rx: PortStats; tx: PortStats } {
    return { rx: { ...this.#rx }, tx: { ...this.#tx } };
  }

  close(): void {
    this.closed = true;
  }
}

/** Opens a FakeTapPort per call; `failFor` makes open throw for chosen VNIs. */
export class FakeTapProvider implements TapProvider {
  /** Every port opened, in order (closed ones included). */
  readonly opened: FakeTapPort[] = [];
  readonly failFor = new Set<number>();

  open(vni: number, deviceName: string): FakeTapPort {
    if (this.failFor.has(vni)) throw new Error(`fake: cannot open ${deviceName}`);
    const t = new FakeTapPort(deviceName, vni);
    this.opened.push(t);
    return t;
  }

  /** The newest port opened for the VNI that is not closed. */
  get(vni: number): FakeTapPort | undefined {
    return this.opened.filter((t) => t.vni === vni && !t.closed).at(-1);
  }
}
