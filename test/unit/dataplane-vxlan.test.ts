import { describe, it, expect } from 'vitest';
import {
  buildVxlanHeader, decodeVxlan, isValidVni, MAX_VNI, VXLAN_BAD_FLAGS, VXLAN_HLEN, VXLAN_RESERVED_BITS, VXLAN_TOO_SHORT,
  writeVxlanHeader,
} from '../../src/dataplane/vxlan.js';

describe('VXLAN header', () => {
  it('builds the RFC 7348 layout and decodes it back', () => {
    expect([...buildVxlanHeader(0x123456)]).toEqual([0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
    for (const vni of [0, 1, 42, 4096, 0x800000, MAX_VNI]) {
      const h = Buffer.concat([buildVxlanHeader(vni), Buffer.alloc(14)]);
      expect(decodeVxlan(h, 0, h.length)).toBe(vni);
    }
  });

  it('builds into a shared table and copies into headroom', () => {
    const table = new Uint8Array(24).fill(0xee);
    buildVxlanHeader(7, table, 8);
    expect([...table.subarray(0, 8)]).toEqual(Array(8).fill(0xee));
    const pkt = Buffer.alloc(40, 0xff);
    writeVxlanHeader(pkt, 10, table, 8);
    expect(decodeVxlan(pkt, 10, 30)).toBe(7);
    expect(pkt[9]).toBe(0xff);
    expect(pkt[18]).toBe(0xff);
  });

  it('every truncated prefix is too short', () => {
    const h = buildVxlanHeader(99);
    for (let len = 0; len < VXLAN_HLEN; len++) {
      expect(decodeVxlan(h, 0, len)).toBe(VXLAN_TOO_SHORT);
      expect(decodeVxlan(Buffer.from(h.subarray(0, len)), 0, VXLAN_HLEN)).toBe(VXLAN_TOO_SHORT);
    }
    expect(decodeVxlan(h, 0, VXLAN_HLEN)).toBe(99);
    expect(decodeVxlan(h, 1, VXLAN_HLEN)).toBe(VXLAN_TOO_SHORT);
    expect(decodeVxlan(h, -1, VXLAN_HLEN)).toBe(VXLAN_TOO_SHORT);
    expect(decodeVxlan(h, 0, -5)).toBe(VXLAN_TOO_SHORT);
  });

  it('every flags bit: only I is accepted', () => {
    for (let bit = 0; bit < 8; bit++) {
      const h = buildVxlanHeader(5);
      h[0] = 1 << bit;
      expect(decodeVxlan(h, 0, 8)).toBe(bit === 3 ? 5 : VXLAN_BAD_FLAGS);
      h[0] = 0x08 | (1 << bit);
      expect(decodeVxlan(h, 0, 8)).toBe(bit === 3 ? 5 : VXLAN_RESERVED_BITS);
    }
    const none = buildVxlanHeader(5);
    none[0] = 0;
    expect(decodeVxlan(none, 0, 8)).toBe(VXLAN_BAD_FLAGS);
  });

  it('every bit of every reserved byte is refused', () => {
    for (const byte of [1, 2, 3, 7]) {
      for (let bit = 0; bit < 8; bit++) {
        const h = buildVxlanHeader(MAX_VNI);
        h[byte] = 1 << bit;
        expect(decodeVxlan(h, 0, 8)).toBe(VXLAN_RESERVED_BITS);
      }
    }
  });

  it('isValidVni takes 24-bit integers only', () => {
    expect([0, 1, MAX_VNI].every(isValidVni)).toBe(true);
    expect([-1, MAX_VNI + 1, 1.5, NaN, '5', null].some(isValidVni)).toBe(false);
  });
});
