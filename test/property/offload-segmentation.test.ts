/**
 * The native TCP segmentation (TAP super-frame -> MSS-sized frames) and coalescing (frames ->
 * super-frame) against an independent reading of the bytes:
 * - segmentation gives valid frames (IP lengths and header checksum, TCP checksum, sequence
 *   numbers, IDs, FIN/PSH on the last and CWR on the first only), none larger than allowed;
 * - coalescing the segments gives back the original super-frame byte for byte, with a
 *   NEEDS_CSUM/GSO header (IPv4 and IPv6, VLAN tags, TCP options, odd lengths and MSS);
 * - coalescing never merges across flows, corrupted segments or gaps: re-segmenting whatever it
 *   produced gives back exactly the frames it was given;
 * - neither crashes nor misbehaves on random bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { coalesceFrames, segmentFrame } from '../../src/io/offload.js';
import {
  buildSuperFrame, pseudoRandomBytes, readVnet, viewTcp, vnetHeader, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, type SuperSpec,
} from '../fixtures/offload-frames.js';

const NO_LIMIT = 70_000;
/** Byte equality without vitest's element-by-element diffing of 64 KB buffers. */
const same = (a: Buffer, b: Buffer): boolean => a.length === b.length && a.equals(b);
const sameList = (a: Buffer[], b: Buffer[]): boolean => a.length === b.length && a.every((x, i) => same(x, b[i]));
const bytes = (n: number) => fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n });

/** A super-frame spec; `maxPayload` bounds the payload (a 64 KB IP packet at most). */
function superSpec(opts: { maxPayload?: number; mss?: fc.Arbitrary<number> } = {}): fc.Arbitrary<SuperSpec> {
  return fc.record({
    v6: fc.boolean(),
    vlan: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: null }),
    dstMac: bytes(6).map((m) => [m[0] & 0xfe, ...m.slice(1)]),
    srcMac: bytes(6).map((m) => [m[0] & 0xfe, ...m.slice(1)]),
    a16: bytes(16), b16: bytes(16),
    sport: fc.integer({ min: 1, max: 65535 }),
    dport: fc.integer({ min: 1, max: 65535 }),
    seq: fc.nat({ max: 0xffffffff }),
    ack: fc.nat({ max: 0xffffffff }),
    window: fc.integer({ min: 0, max: 65535 }),
    tos: fc.integer({ min: 0, max: 255 }),
    ttl: fc.integer({ min: 1, max: 255 }),
    id: fc.integer({ min: 0, max: 65535 }),
    df: fc.boolean(),
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    optWords: fc.integer({ min: 0, max: 10 }),
    optSeed: fc.integer(),
    extra: fc.subarray([TCP_PSH, TCP_FIN, TCP_CWR, TCP_ECE]),
    payloadLen: fc.integer({ min: 1, max: opts.maxPayload ?? 65_000 }),
    seed: fc.integer(),
    mss: opts.mss ?? fc.integer({ min: 1, max: 9000 }),
  }).map((r): SuperSpec => {
    const optBytes = [...pseudoRandomBytes(r.optWords * 4, r.optSeed)];
    const tcpHdr = 20 + optBytes.length;
    // The IP length field is 16 bits: IPv4 counts its header, IPv6 only the payload.
    const room = 65_535 - tcpHdr - (r.v6 ? 0 : 20);
    const payloadLen = Math.min(r.payloadLen, room);
    // At most 64 segments, the most one coalesced super-frame takes.
    const mss = Math.max(r.mss, Math.ceil(payloadLen / 64));
    return {
      v6: r.v6, vlan: r.vlan, dstMac: r.dstMac, srcMac: r.srcMac,
      src: r.v6 ? r.a16 : r.a16.slice(0, 4), dst: r.v6 ? r.b16 : r.b16.slice(0, 4),
      sport: r.sport, dport: r.dport, seq: r.seq, ack: r.ack, window: r.window, tos: r.tos, ttl: r.ttl, id: r.id, df: r.df,
      flowLabel: r.flowLabel, options: optBytes, flags: TCP_ACK | r.extra.reduce((a, b) => a | b, 0),
      payload: pseudoRandomBytes(payloadLen, r.seed), mss,
    };
  });
}

function segmentsOf(spec: SuperSpec, maxFrame = NO_LIMIT): { built: ReturnType<typeof buildSuperFrame>; segs: Buffer[] } {
  const built = buildSuperFrame(spec);
  const segs = segmentFrame(built.frame, built.vnet, maxFrame);
  if (segs === null) throw new Error('segmentation refused a valid super-frame');
  return { built, segs };
}

describe('segmentation', () => {
  it('gives valid MSS-sized frames with the right fields', () => {
    fc.assert(fc.property(superSpec(), fc.integer({ min: 0, max: 3 }), (spec, clamp) => {
      const hdrLen = buildSuperFrame(spec).hdrLen;
      // Sometimes the underlay MTU, not the MSS, limits the segment size.
      const maxFrame = clamp === 0 ? hdrLen + Math.max(1, spec.mss - 7) : NO_LIMIT;
      const { built, segs } = segmentsOf(spec, maxFrame);
      const mss = Math.min(spec.mss, maxFrame - hdrLen);
      expect(segs.length).toBe(Math.ceil(spec.payload.length / mss));
      let at = 0;
      segs.forEach((seg, k) => {
        const v = viewTcp(seg)!;
        const last = k === segs.length - 1;
        expect(seg.length).toBeLessThanOrEqual(maxFrame);
        expect(seg.subarray(0, built.l3)).toEqual(built.frame.subarray(0, built.l3));
        expect(v.ipLenOk && v.ipCsumOk && v.tcpCsumOk).toBe(true);
        expect(v.payload.length).toBe(last ? spec.payload.length - k * mss : mss);
        expect(same(v.payload, spec.payload.subarray(at, at + v.payload.length))).toBe(true);
        expect(v.seq).toBe((spec.seq + at) >>> 0);
        if (!spec.v6) expect(v.id).toBe((spec.id + k) & 0xffff);
        const keep = ~((last ? 0 : TCP_FIN | TCP_PSH) | (k === 0 ? 0 : TCP_CWR)) & 0xff;
        expect(v.flags).toBe(spec.flags & keep);
        at += v.payload.length;
      });
      expect(at).toBe(spec.payload.length);
    }), { numRuns: 150 });
  });

  it('completes a partial checksum of a frame without GSO', () => {
    fc.assert(fc.property(superSpec({ maxPayload: 1400, mss: fc.constant(9000) }), (spec) => {
      const built = buildSuperFrame(spec);
      const vnet = vnetHeader({ flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: built.l4, csumOffset: 16 });
      const out = segmentFrame(built.frame, vnet, NO_LIMIT)!;
      expect(out).toHaveLength(1);
      expect(viewTcp(out[0])!.tcpCsumOk).toBe(true);
      const rest = (b: Buffer) => Buffer.concat([b.subarray(0, built.l4 + 16), b.subarray(built.l4 + 18)]);
      expect(same(rest(out[0]), rest(built.frame))).toBe(true);
    }), { numRuns: 50 });
  });
});

describe('segmentation then coalescing', () => {
  it('gives back the original super-frame byte for byte', () => {
    fc.assert(fc.property(superSpec(), (spec) => {
      const { built, segs } = segmentsOf(spec);
      const out = coalesceFrames(segs);
      expect(out).toHaveLength(1);
      if (segs.length === 1) {
        // Nothing to merge: the frame goes out as it is, checksum complete, behind a zero header.
        expect(out[0].vnetHdr).toEqual(Buffer.alloc(12));
        expect(same(out[0].frame, segs[0])).toBe(true);
        return;
      }
      expect(same(out[0].frame, built.frame)).toBe(true);
      expect(readVnet(out[0].vnetHdr)).toEqual({ ...readVnet(built.vnet), gsoSize: spec.mss });
    }), { numRuns: 500 });
  });

  it('splits more than 64 segments into several super-frames, losing nothing', () => {
    fc.assert(fc.property(superSpec({ maxPayload: 20_000, mss: fc.integer({ min: 1, max: 200 }) }), (spec) => {
      const built = buildSuperFrame({ ...spec, mss: 1 });
      const mss = Math.max(1, Math.min(spec.mss, Math.floor(spec.payload.length / 65) || 1));
      const segs = segmentFrame(built.frame, vnetHeader({ ...readVnet(built.vnet), gsoSize: mss }), NO_LIMIT)!;
      const out = coalesceFrames(segs);
      expect(out.length).toBe(Math.ceil(segs.length / 64));
      const resegmented = out.flatMap((o) => segmentFrame(o.frame, o.vnetHdr, NO_LIMIT)!);
      expect(sameList(resegmented, segs)).toBe(true);
    }), { numRuns: 40 });
  });

  it('never merges across flows, gaps or corrupted segments', () => {
    const flows = fc.array(superSpec({ maxPayload: 12_000, mss: fc.integer({ min: 200, max: 1460 }) }), { minLength: 1, maxLength: 3 });
    fc.assert(fc.property(flows, fc.array(fc.nat(), { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 3 }), fc.boolean(), (specs, picks, corrupt, drop) => {
      const queues = specs.map((s, i) => segmentsOf(i === 1 ? { ...specs[0], sport: specs[0].sport ^ 1, seq: s.seq } : s).segs);
      // Interleave the flows, each in its own order.
      const list: Buffer[] = [];
      for (let p = 0; queues.some((q) => q.length > 0); p++) {
        const live = queues.filter((q) => q.length > 0);
        list.push(Buffer.from(live[(picks[p] ?? p) % live.length].shift()!));
      }
      for (const c of corrupt) list[c % list.length][(c * 7919) % list[c % list.length].length] ^= 1 << (c % 8);
      if (drop && list.length > 2) list.splice(1, 1);
      const out = coalesceFrames(list);
      const back = out.flatMap((o) => segmentFrame(o.frame, o.vnetHdr, NO_LIMIT)!);
      expect(sameList(back, list)).toBe(true);
    }), { numRuns: 150 });
  });
});

describe('untrusted bytes', () => {
  it('segmentFrame never crashes and keeps GSO output within maxFrame', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.integer({ min: 0, max: 2000 }), (frame, vnet, maxFrame) => {
      const out = segmentFrame(Buffer.from(frame), Buffer.from(vnet), maxFrame);
      if (out !== null && (vnet[1] & 0x7f) !== 0) for (const s of out) expect(s.length).toBeLessThanOrEqual(maxFrame);
    }), { numRuns: 2000 });
  });

  it('coalesceFrames never crashes and never loses a frame it cannot merge', () => {
    const frame = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b));
    fc.assert(fc.property(fc.array(frame, { maxLength: 20 }), (frames) => {
      const out = coalesceFrames(frames);
      const back = out.flatMap((o) => (o.vnetHdr[1] === 0 ? [o.frame] : segmentFrame(o.frame, o.vnetHdr, NO_LIMIT)!));
      expect(sameList(back, frames)).toBe(true);
    }), { numRuns: 1000 });
  });

  it('a mutated super-frame is refused or segmented within limits', () => {
    fc.assert(fc.property(superSpec({ maxPayload: 3000 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (spec, at, value) => {
      const built = buildSuperFrame(spec);
      built.frame[at % built.hdrLen] = value;
      const out = segmentFrame(built.frame, built.vnet, 1500);
      if (out !== null) for (const s of out) expect(s.length).toBeLessThanOrEqual(1500);
    }), { numRuns: 500 });
  });
});
