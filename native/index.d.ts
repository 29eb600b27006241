/**
 * Types of the ovnet N-API addon (native/build/Release/ovnet.node). Only src/io/ loads it.
 *
 * Errors: open-time and cold-path calls throw an Error carrying
 *   code: 'OVN_ERR_NATIVE', errno: 'EPERM' | 'EBUSY' | ... ('EINVAL' for a bad argument),
 *   syscall?: 'ioctl(TUNSETIFF)' | 'bind' | ... (absent when no system call was made)
 * and a message like "tapOpen(ovtap-1): ioctl(TUNSETIFF) failed: EPERM (Operation not permitted)".
 * Programming errors (wrong argument types, arrays shorter than `count`) throw TypeError/RangeError.
 * Per-packet conditions are never thrown: they are counted in stats().
 *
 * Receive (startRead/startRecv): the addon watches the descriptor with uv_poll on the event loop
 * (never the thread pool). When it is readable, up to `capacity` packets are read into slot i at
 * byte i * slotSize + headroom (at most slotSize - headroom bytes), len[i] is set, and
 * onBatch(count) is called once, synchronously, with count >= 1. Packets that did not fit are
 * dropped and counted (rxTruncated); slots 0..count-1 are always dense. The arrays stay
 * referenced until stopRead/stopRecv/close. A handle that is reading is kept alive by the addon.
 * A callback that throws becomes an uncaught exception. It may call stop/close/write/send.
 */

export interface NativeError extends Error {
  code: 'OVN_ERR_NATIVE';
  errno: string;
  syscall?: string;
}

export interface TapOpenOptions {
  /**
   * IFF_VNET_HDR: every frame read or written carries a virtio_net_hdr (10 bytes until
   * setVnetHdrSize(12)). Reads put it in startRead's `vnet` buffer, 12 bytes per slot (bytes past
   * the size in use are zeroed). Writes coalesce: consecutive TCP segments of one flow in a
   * write() list go out as one super-frame (NEEDS_CSUM, gso_type TCPV4/TCPV6, gso_size = the
   * segments' payload size); every other frame goes out behind a zero header.
   */
  vnetHdr?: boolean;
  /** IFF_MULTI_QUEUE: several handles may open the same device name, one queue each. */
  multiQueue?: boolean;
}

export interface TapStats {
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  rxTruncated: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
}

export interface TapHandleStats extends TapStats {
  /** 0 without vnetHdr. */
  vnetHdrSize: number;
  /** Frames read with gso_type != 0. */
  rxSuperFrames: number;
  /** Super-frames written, and the segments they were made of. */
  txSuperFrames: number;
  txCoalesced: number;
}

export interface TapHandle {
  /** The device name the kernel reports. */
  readonly name: string;
  /** `vnet` (capacity * 12 bytes) is required with vnetHdr and ignored without. */
  startRead(
    buf: Buffer, slotSize: number, headroom: number, capacity: number, len: Uint32Array,
    onBatch: (count: number) => void, vnet?: Buffer | null,
  ): void;
  stopRead(): void;
  /**
   * Writes frame i = buf[off[i], off[i] + len[i]) for i < count, one write(2) each.
   * Returns how many were written; the rest (EAGAIN, EIO, out-of-range) are counted in txErrors.
   * Returns 0 after close().
   */
  write(buf: Buffer, count: number, off: Uint32Array, len: Uint32Array): number;
  stats(): TapHandleStats;
  /** TUNSETOFFLOAD with TUN_F_* flags (see tunOffload). Needs vnetHdr. */
  setOffload(flags: number): void;
  /** TUNSETVNETHDRSZ (10 or 12 bytes; 12 with VIRTIO_NET_F_MRG_RXBUF layout). Needs vnetHdr; not while reading. */
  setVnetHdrSize(size: number): void;
  /** Stops reading and closes the descriptor (a non-persistent device disappears). Idempotent. */
  close(): void;
}

export interface UdpOpenOptions {
  /** Numeric IPv4 or IPv6 literal to bind ("0.0.0.0", "::", "192.0.2.1"); decides the family. */
  address: string;
  /** 0 picks an ephemeral port (see localPort). */
  port: number;
  /** SO_RCVBUF request in bytes; default 4 MiB (SO_RCVBUFFORCE first, as root). */
  rcvbuf?: number;
  /** SO_SNDBUF request in bytes, also for the source-port sockets; default 4 MiB. */
  sndbuf?: number;
  /** Send-only sockets on ports in 49152-65535, chosen by flow % srcPorts; default 8, 0 = send from the listening socket. Max 256. */
  srcPorts?: number;
  /** UDP_GRO on the listening socket (falls back silently where unsupported; see stats().gro). Needs startRecv's `off`. */
  gro?: boolean;
  /** Largest UDP payload the underlay MTU carries (sendOffload keeps every datagram within it); default 1472 (IPv4) / 1452 (IPv6). */
  maxDatagram?: number;
  /** SO_REUSEPORT on the listening socket, so several handles (workers) share the port. */
  reusePort?: boolean;
}

export interface UdpStats extends TapStats {
  /** Effective sizes as getsockopt reports them (the kernel doubles the request). */
  rcvbuf: number;
  sndbuf: number;
  gro: boolean;
  /** False once the kernel refused a UDP GSO message: sendOffload then sends datagram by datagram. */
  gso: boolean;
  maxDatagram: number;
  /** sendOffload: messages handed to the kernel, of which with UDP_SEGMENT. */
  txMessages: number;
  txGsoMessages: number;
  /** sendOffload: super-frames segmented, and entries refused (malformed super-frame, bad offsets). */
  txSegmented: number;
  txBadOffload: number;
  /** GRO reads that held more than one datagram. */
  rxAggregates: number;
  /** Datagrams beyond the batch's `off` capacity, dropped. */
  rxDropped: number;
}

export interface UdpHandle {
  readonly localPort: number;
  /** The ports of the source-port pool, index = flow % length. Empty when srcPorts is 0. */
  sourcePorts(): number[];
  /** Peer table entry (index 0..65535) used by send(); family must match the socket's. */
  setPeer(index: number, address: string, port: number): void;
  clearPeer(index: number): void;
  /**
   * Sends datagram i = buf[off[i], off[i] + len[i]) to peer[i], from source port
   * sourcePorts()[flow[i] % n], for i < count (sendmmsg, grouped per source socket).
   * Returns how many the kernel accepted; unknown peers and refused datagrams count in txErrors.
   */
  send(
    buf: Buffer, count: number, off: Uint32Array, len: Uint32Array, peer: Int32Array, flow: Uint16Array,
  ): number;
  /**
   * As send(), where entry i is an 8-byte VXLAN header followed by a frame read from a vnetHdr
   * TAP, whose virtio_net_hdr is vnet[12 * vnetIdx[i], +12) (vnet null: plain frames). A TCP
   * super-frame is split into segments of at most gso_size payload bytes and at most
   * maxDatagram bytes on the wire, each with its own VXLAN header copy; a partial checksum is
   * completed (and NEEDS_CSUM cleared in `vnet`, for flooded copies). Consecutive datagrams to
   * the same peer from the same source socket go out as UDP GSO messages. Returns how many
   * entries went out completely.
   */
  sendOffload(
    buf: Buffer, count: number, off: Uint32Array, len: Uint32Array, peer: Int32Array, flow: Uint16Array,
    vnet: Buffer | null, vnetIdx: Int32Array | null,
  ): number;
  /** See UdpOpenOptions.maxDatagram. */
  setMaxDatagram(bytes: number): void;
  /**
   * As for TAP reads, plus the source of slot i in srcAddr[4i..4i+4) (the 4 words of the IPv6
   * address as numbers, IPv4 mapped: ::ffff:10.0.0.1 -> [0, 0, 0xffff, 0x0a000001]) and srcPort[i].
   */
  /**
   * With `off` (needed for gro), datagram i of a batch is at buf[off[i], +len[i]) and count is
   * in datagrams: a GRO read is split at its gso_size. len, srcAddr and srcPort then hold
   * off.length entries.
   */
  startRecv(
    buf: Buffer, slotSize: number, headroom: number, capacity: number, len: Uint32Array,
    srcAddr: Uint32Array, srcPort: Uint16Array, onBatch: (count: number) => void, off?: Uint32Array,
  ): void;
  stopRecv(): void;
  stats(): UdpStats;
  /** Closes the listening socket and the pool. Idempotent; send() returns 0 afterwards. */
  close(): void;
}

/** Opens (creating if needed) a TAP device in the caller's network namespace. */
export function tapOpen(name: string, opts: TapOpenOptions): TapHandle;
export function udpOpen(opts: UdpOpenOptions): UdpHandle;
/** One datagram to a unix datagram socket ('@name' = abstract). False when it was not delivered. */
export function sdNotify(socketPath: string, message: string): boolean;
/**
 * The send path's byte work on one TAP frame (tests): the segments of a GSO super-frame, each
 * at most maxFrame bytes, or the frame with its partial checksum completed. null: refused.
 */
export function segmentFrame(frame: Buffer, vnetHdr: Buffer, maxFrame: number): Buffer[] | null;
/** The TAP write path's byte work on a list of frames (tests): super-frames or frames as they are. */
export function coalesceFrames(frames: Buffer[]): { vnetHdr: Buffer; frame: Buffer }[];
/** TUN_F_* flags for TapHandle.setOffload. */
export const tunOffload: {
  readonly CSUM: number;
  readonly TSO4: number;
  readonly TSO6: number;
  readonly TSO_ECN: number;
  readonly UFO: number;
  readonly USO4: number;
  readonly USO6: number;
};
