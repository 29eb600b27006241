/**
 * In-memory UDP underlay. A FakeUnderlayPort records what it sends; attached to a FakeWire it
 * also carries datagrams to the port bound at the destination address and port. As the ports.ts
 * ownership rules demand, bytes are copied at send() (the sender may reuse its buffer at once)
 * and delivered later, in receive batches, by wire.run() - a deterministic, stepwise network.
 * Peers are told apart by source address only, and the source port is taken from the flow hash
 * the way a real port maps it (49152 + flow % 16384).
 */
import { addressWords } from '../../src/dataplane/peers.js';
import { HEADROOM, type PacketBatch, type PacketList, type PortStats, type UnderlayPort } from '../../src/dataplane/ports.js';

export interface SentDatagram {
  peer: number;
  /** Destination, as given to setPeer. */
  address: string;
  port: number;
  srcPort: number;
  bytes: Buffer;
}

export interface Incoming {
  /** Source address (any address, also one that is no peer). */
  from: string;
  srcPort?: number;
  bytes: Uint8Array;
}

function wordsOf(address: string): Uint32Array {
  const w = addressWords(address);
  if (!w) throw new Error(`fake underlay: bad address ${address}`);
  return w;
}

function zeroStats(): PortStats {
  return { packets: 0, bytes: 0, errors: 0, truncated: 0 };
}

export class FakeUnderlayPort implements UnderlayPort {
  readonly address: string;
  readonly localPort: number;
  readonly words: Uint32Array;
  /** Copies of every datagram accepted by send(), oldest first. */
  readonly sent: SentDatagram[] = [];
  /** When > 0, the next sends refuse that many datagrams in total (as ENOBUFS would). */
  refuseSends = 0;
  closed = false;
  readonly #wire: FakeWire | undefined;
  readonly #peers = new Map<number, { address: string; port: number }>();
  #batch: PacketBatch | undefined;
  #onBatch: ((b: PacketBatch) => void) | undefined;
  readonly #rx = zeroStats();
  readonly #tx = zeroStats();

  constructor(address: string, localPort = 4789, wire?: FakeWire) {
    this.address = address;
    this.localPort = localPort;
    this.words = wordsOf(address);
    this.#wire = wire;
  }

  get started(): boolean {
    return this.#batch !== undefined;
  }

  /** Current peer table (index -> destination), as set by the data plane. */
  peers(): Map<number, { address: string; port: number }> {
    return new Map(this.#peers);
  }

  start(batch: PacketBatch, onBatch: (batch: PacketBatch) => void): void {
    if (this.#batch) throw new Error('fake underlay: start called twice');
    this.#batch = batch;
    this.#onBatch = onBatch;
  }

  setPeer(index: number, address: string, port: number): void {
    wordsOf(address);
    this.#peers.set(index, { address, port });
  }

  clearPeer(index: number): void {
    this.#peers.delete(index);
  }

  send(list: PacketList): number {
    let n = 0;
    for (let k = 0; k < list.count; k++) {
      const dst = this.#peers.get(list.peer[k]);
      if (this.closed || !dst || this.refuseSends > 0) {
        if (dst && this.refuseSends > 0) this.refuseSends--;
        this.#tx.errors++;
        continue;
      }
      const bytes = Buffer.from(list.buf.subarray(list.off[k], list.off[k] + list.len[k]));
      const srcPort = 49152 + (list.flow[k] % 16384);
      this.sent.push({ peer: list.peer[k], address: dst.address, port: dst.port, srcPort, bytes });
      this.#wire?.carry(this, dst.address, dst.port, srcPort, bytes);
      this.#tx.packets++;
      this.#tx.bytes += bytes.length;
      n++;
    }
    return n;
  }

  /** Hands datagrams to the data plane as received, in batches of the batch's capacity. */
  receive(datagrams: Incoming[]): void {
    const batch = this.#batch;
    if (!batch || !this.#onBatch) throw new Error('fake underlay: not started');
    if (this.closed) return;
    for (let from = 0; from < datagrams.length; from += batch.capacity) {
      batch.count = 0;
      for (const d of datagrams.slice(from, from + batch.capacity)) {
        if (d.bytes.length > batch.slotSize - HEADROOM) {
          this.#rx.truncated++;
          continue;
        }
        const i = batch.count++;
        batch.buf.set(d.bytes, batch.packetOffset(i));
        batch.len[i] = d.bytes.length;
        batch.srcAddr.set(wordsOf(d.from), i * 4);
        batch.srcPort[i] = d.srcPort ?? 50_000;
        this.#rx.packets++;
        this.#rx.bytes += d.bytes.length;
      }
      if (batch.count > 0) this.#onBatch(batch);
    }
  }

  /** Clears the record of sent datagrams, returning it. */
  take(): SentDatagram[] {
    return this.sent.splice(0, this.sent.length);
  }

  stats(): { rx: PortStats; tx: PortStats } {
    return { rx: { ...this.#rx }, tx: { ...this.#tx } };
  }

  close(): void {
    this.closed = true;
  }
}

interface InFlight {
  to: FakeUnderlayPort;
  datagram: Incoming;
}

/** Connects FakeUnderlayPorts by (address, port); delivery happens in run(). */
export class FakeWire {
  readonly #ports = new Map<string, FakeUnderlayPort>();
  #queue: InFlight[] = [];
  /** Datagrams sent to an address and port where no port listens. */
  lost = 0;
  delivered = 0;

  static #key(address: string, port: number): string {
    return `${wordsOf(address).join('.')}|${port}`;
  }

  /** A port bound at address:localPort on this wire. */
  port(address: string, localPort = 4789): FakeUnderlayPort {
    const key = FakeWire.#key(address, localPort);
    if (this.#ports.has(key)) throw new Error(`fake wire: ${address}:${localPort} in use`);
    const p = new FakeUnderlayPort(address, localPort, this);
    this.#ports.set(key, p);
    return p;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Called by FakeUnderlayPort.send with an already copied datagram. */
  carry(from: FakeUnderlayPort, address: string, port: number, srcPort: number, bytes: Buffer): void {
    const to = this.#ports.get(FakeWire.#key(address, port));
    if (!to || to.closed || !to.started) {
      this.lost++;
      return;
    }
    this.#queue.push({ to, datagram: { from: from.address, srcPort, bytes } });
  }

  /** Delivers everything queued, and whatever that delivery sends, until the wire is quiet. */
  run(maxRounds = 1000): number {
    let total = 0;
    for (let round = 0; round < maxRounds && this.#queue.length > 0; round++) {
      const now = this.#queue;
      this.#queue = [];
      const byPort = new Map<FakeUnderlayPort, Incoming[]>();
      for (const f of now) byPort.set(f.to, [...(byPort.get(f.to) ?? []), f.datagram]);
      for (const [port, datagrams] of byPort) port.receive(datagrams);
      total += now.length;
    }
    this.delivered += total;
    return total;
  }
}
