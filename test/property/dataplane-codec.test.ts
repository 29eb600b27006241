/** Decoders of untrusted bytes never throw and agree with a plain reading of the spec. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { buildVxlanHeader, decodeVxlan, MAX_VNI, VXLAN_BAD_FLAGS, VXLAN_RESERVED_BITS, VXLAN_TOO_SHORT } from '../../src/dataplane/vxlan.js';
import { flowHash } from '../../src/dataplane/ethernet.js';

function oracle(b: Uint8Array, off: number, len: number): number {
  if (len < 8 || off < 0 || off + 8 > b.length) return VXLAN_TOO_SHORT;
  if (!(b[off] & 0x08)) return VXLAN_BAD_FLAGS;
  if (b[off] !== 0x08 || b[off + 1] || b[off + 2] || b[off + 3] || b[off + 7]) return VXLAN_RESERVED_BITS;
  return b[off + 4] * 65536 + b[off + 5] * 256 + b[off + 6];
}

describe('VXLAN decode properties', () => {
  it('never throws on any bytes, offset or length, and matches the oracle', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: -4, max: 48 }), fc.integer({ min: -4, max: 48 }), (bytes, off, len) => {
        const r = decodeVxlan(bytes, off, len);
        expect(r).toBe(oracle(bytes, off, len));
        expect(r === VXLAN_TOO_SHORT || r === VXLAN_BAD_FLAGS || r === VXLAN_RESERVED_BITS || (r >= 0 && r <= MAX_VNI)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('headers mostly right with a few flipped bits are still judged like the oracle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_VNI }), fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 3 }), (vni, flips) => {
        const h = buildVxlanHeader(vni);
        for (const bit of flips) h[bit >> 3] ^= 1 << (bit & 7);
        expect(decodeVxlan(h, 0, 8)).toBe(oracle(h, 0, 8));
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips every VNI with any payload at any offset', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_VNI }), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 16 }), (vni, payload, off) => {
        const buf = new Uint8Array(off + 8 + payload.length);
        buf.set(buildVxlanHeader(vni), off);
        buf.set(payload, off + 8);
        expect(decodeVxlan(buf, off, 8 + payload.length)).toBe(vni);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('flowHash properties', () => {
  it('never throws, stays in 16 bits, and reads only [off, off+len)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 14, maxLength: 120 }), fc.integer({ min: 0, max: 8 }), fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x0806), (frame, off, type) => {
        const f = Uint8Array.from(frame);
        f[12] = type >> 8;
        f[13] = type & 0xff;
        if (f.length > 20 && type === 0x8100) { f[16] = 0x08; f[17] = 0; }
        const buf = new Uint8Array(off + f.length + 16).fill(0xa5);
        buf.set(f, off);
        const h = flowHash(buf, off, f.length);
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffff).toBe(true);
        expect(flowHash(f, 0, f.length)).toBe(h);
      }),
      { numRuns: 3000 },
    );
  });
});
