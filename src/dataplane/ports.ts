/**
 * The data plane's two seams, the TAP device and the UDP underlay, both batch-shaped
 * (after wireguard-go's tun.Device and conn.Bind): one JavaScript crossing per batch.
 *
 * Buffer ownership, the rule every implementation and caller follows:
 * - Receive: the CALLER (the data plane) allocates a PacketBatch and hands it to `start`.
 *   The port fills slots 0..count-1 and calls `onBatch(batch)` synchronously. During that call
 *   the callee owns the batch and may rewrite any byte of it (e.g. write a VXLAN header into
 *   the headroom). When `onBatch` returns, ownership goes back to the port, which will
 *   overwrite the batch on the next read. Nobody may keep a reference to slot bytes after return.
 * - Send/write: the CALLER owns the PacketList and the buffer it points into; the port only
 *   borrows them for the duration of `send`/`write` (the kernel copies during the syscall).
 *   Packets the kernel cannot take right now (EAGAIN, ENOBUFS) are dropped and counted by the
 *   port, never queued, never thrown.
 *
 * Slot layout of a PacketBatch: slot i starts at byte i * slotSize; the received packet starts
 * at i * slotSize + HEADROOM and is len[i] bytes long. HEADROOM lets the data plane prepend the
 * 8-byte VXLAN header in place (no copy), and leaves room for a 12-byte virtio_net_hdr once the
 * TAP is opened with IFF_VNET_HDR (offload work).
 */

export const HEADROOM = 32;
export const VXLAN_HEADER_LEN = 8;
/** Frames larger than a slot are truncated by the kernel; ports drop and count them. */
export const DEFAULT_SLOT_SIZE = 2048;
export const DEFAULT_BATCH = 64;

/**
 * Offloads (see io/ and native/): a TAP opened with IFF_VNET_HDR puts a virtio_net_hdr
 * (12 bytes, with num_buffers) before every frame; the port delivers it in PacketBatch.vnet,
 * slot i at [12i, 12i+12), so the frame itself still starts at HEADROOM. A frame may then be a
 * TCP super-frame of up to 64 KB (gso_type != 0), and an underlay with UDP GRO may pack several
 * datagrams into one slot, each then described by PacketBatch.off/len.
 */
export const VNET_HDR_LEN = 12;
/** Slot size for offload ports: a 64 KB super-frame or GRO aggregate plus headroom. */
export const OFFLOAD_SLOT_SIZE = 65_536 + 128;

/** What a port needs its receive batch to look like (ports without it take the defaults). */
export interface BatchShape {
  slotSize: number;
  /** Slots per batch, when the port wants fewer or more than the data plane's batch size (large slots). */
  capacity?: number;
  /** Keep a virtio_net_hdr per slot in PacketBatch.vnet. */
  vnetHdr?: boolean;
  /** Several packets per slot (UDP GRO): packet i is at PacketBatch.off[i]; at most this many per slot. */
  packetsPerSlot?: number;
}

export class PacketBatch {
  readonly buf: Buffer;
  readonly slotSize: number;
  readonly capacity: number;
  /** Number of filled slots. */
  count = 0;
  /** Packet length per slot (bytes from HEADROOM). */
  readonly len: Uint32Array;
  /**
   * Underlay receive only: the datagram's source address as four big-endian 32-bit words
   * (IPv6, or IPv4-mapped ::ffff:a.b.c.d for IPv4), slot i at [4*i, 4*i+4).
   */
  readonly srcAddr: Uint32Array;
  /** Underlay receive only: the datagram's source UDP port. */
  readonly srcPort: Uint16Array;
  /** vnetHdr shape: packet i's virtio_net_hdr at [VNET_HDR_LEN * i, +VNET_HDR_LEN); else null. */
  readonly vnet: Buffer | null;
  /** packetsPerSlot shape: packet i starts at off[i] (absolute, in `buf`); else null (slot layout). */
  readonly off: Uint32Array | null;
  /** Most packets one batch can hold (len, srcAddr, srcPort, off are this long). */
  readonly maxPackets: number;

  constructor(capacity = DEFAULT_BATCH, slotSize = DEFAULT_SLOT_SIZE, shape: Omit<BatchShape, 'slotSize'> = {}) {
    if (slotSize <= HEADROOM + VXLAN_HEADER_LEN) throw new RangeError(`slotSize ${slotSize} too small`);
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.maxPackets = capacity * Math.max(1, shape.packetsPerSlot ?? 1);
    this.buf = Buffer.alloc(capacity * slotSize);
    this.len = new Uint32Array(this.maxPackets);
    this.srcAddr = new Uint32Array(this.maxPackets * 4);
    this.srcPort = new Uint16Array(this.maxPackets);
    this.vnet = shape.vnetHdr ? Buffer.alloc(capacity * VNET_HDR_LEN) : null;
    this.off = shape.packetsPerSlot ? new Uint32Array(this.maxPackets) : null;
  }

  /** Byte offset of packet i inside `buf`. */
  packetOffset(i: number): number {
    return this.off !== null ? this.off[i] : i * this.slotSize + HEADROOM;
  }

  /** Whether this batch has the layout `shape` asks for (a port's rxShape, or the defaults). */
  fits(shape: BatchShape | undefined, slotSize: number, capacity: number): boolean {
    return this.slotSize === (shape?.slotSize ?? slotSize) && this.capacity === (shape?.capacity ?? capacity) &&
      (this.vnet !== null) === !!shape?.vnetHdr &&
      (this.off !== null) === !!shape?.packetsPerSlot;
  }
}

/**
 * A list of packets to send or write, each a byte range of `buf` (which the list does not
 * own: it is set per use, usually to a PacketBatch's buffer). Several entries may point at the
 * same bytes: head-end replication sends one encapsulated frame to several peers.
 */
export class PacketList {
  buf: Buffer = Buffer.alloc(0);
  count = 0;
  readonly capacity: number;
  /** Absolute byte offset into `buf`. */
  readonly off: Uint32Array;
  readonly len: Uint32Array;
  /** Underlay send only: destination peer index (see UnderlayPort.setPeer). */
  readonly peer: Int32Array;
  /**
   * Underlay send only: a 16-bit hash of the inner flow (RFC 7348 section 5). The port maps it
   * onto a source port in 49152-65535 so that ECMP in the underlay spreads flows apart while
   * keeping one flow on one path.
   */
  readonly flow: Uint16Array;
  /**
   * Underlay send from a vnetHdr TAP batch: the batch's virtio_net_hdr buffer, and per entry the
   * index of its frame's header there (the encapsulated frame may be a super-frame to segment or
   * carry a partial checksum). null for plain frames.
   */
  vnet: Buffer | null = null;
  readonly vnetIdx: Int32Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.off = new Uint32Array(capacity);
    this.len = new Uint32Array(capacity);
    this.peer = new Int32Array(capacity);
    this.flow = new Uint16Array(capacity);
    this.vnetIdx = new Int32Array(capacity);
  }

  reset(buf: Buffer, vnet: Buffer | null = null): void {
    this.buf = buf;
    this.vnet = vnet;
    this.count = 0;
  }
}

/** Counters every port keeps; read on the cold path (status, metrics). */
export interface PortStats {
  packets: number;
  bytes: number;
  /** Receive: reads that failed; send: packets the kernel refused (EAGAIN/ENOBUFS/...). */
  errors: number;
  /** Datagrams/frames larger than a slot, dropped. */
  truncated: number;
}

export interface TapPort {
  readonly name: string;
  /** The receive batch this port needs; absent: PacketBatch defaults (the data plane's slot size). */
  readonly rxShape?: BatchShape;
  /** Begin delivering received frames in `batch` (see ownership rules above). Once. */
  start(batch: PacketBatch, onBatch: (batch: PacketBatch) => void): void;
  /** Write each listed frame to the device. Returns how many were written. */
  write(list: PacketList): number;
  stats(): { rx: PortStats; tx: PortStats };
  close(): void;
}

export interface UnderlayPort {
  /** As TapPort.rxShape. */
  readonly rxShape?: BatchShape;
  /** Begin delivering received datagrams in `batch` (see ownership rules above). Once. */
  start(batch: PacketBatch, onBatch: (batch: PacketBatch) => void): void;
  /** Cold path: peer index -> destination address and UDP port, used by `send`. */
  setPeer(index: number, address: string, port: number): void;
  clearPeer(index: number): void;
  /** Send each listed datagram to its peer. Returns how many the kernel accepted. */
  send(list: PacketList): number;
  /** The local UDP port datagrams are received on. */
  readonly localPort: number;
  stats(): { rx: PortStats; tx: PortStats };
  close(): void;
}

/** How the data plane obtains the TAP port of a network when a command adds it. */
export interface TapProvider {
  open(vni: number, deviceName: string): TapPort;
}
