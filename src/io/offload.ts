/**
 * The native segmentation and coalescing (native/src/tcp_offload.cc), exposed for tests and
 * benchmarks: the data path reaches them only inside the ports (sendOffload, TAP writes).
 */
import { loadNative } from './native.js';

/** The frames the send path puts on the wire for one TAP frame and its virtio_net_hdr; null if refused. */
export function segmentFrame(frame: Buffer, vnetHdr: Buffer, maxFrame: number): Buffer[] | null {
  return loadNative().segmentFrame(frame, vnetHdr, maxFrame);
}

/** What the TAP write path makes of a list of frames: super-frames (with their header) or the frames as they are. */
export function coalesceFrames(frames: Buffer[]): { vnetHdr: Buffer; frame: Buffer }[] {
  return loadNative().coalesceFrames(frames);
}
