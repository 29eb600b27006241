import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isOvnError } from '../../src/lib/errors.js';
import { VXLAN_OVERHEAD, overlayMtu } from '../../src/host/mtu.js';
import type { Family } from '../../src/lib/ip.js';

describe('overlayMtu', () => {
  it('subtracts 50 for an IPv4 underlay and 70 for IPv6', () => {
    expect(overlayMtu(1500, 4)).toBe(1450);
    expect(overlayMtu(1500, 6)).toBe(1430);
    expect(overlayMtu(9000, 4)).toBe(8950);
    expect(overlayMtu(9000, 6)).toBe(8930);
  });

  it('matches the header sizes: IP + UDP 8 + VXLAN 8 + inner Ethernet 14', () => {
    expect(VXLAN_OVERHEAD[4]).toBe(20 + 8 + 8 + 14);
    expect(VXLAN_OVERHEAD[6]).toBe(40 + 8 + 8 + 14);
  });

  it('accepts the smallest underlay that leaves 68 bytes and refuses one less', () => {
    expect(overlayMtu(118, 4)).toBe(68);
    expect(overlayMtu(138, 6)).toBe(68);
    for (const [mtu, fam] of [[117, 4], [137, 6], [0, 4], [-1500, 4], [1500.5, 4], [Number.NaN, 6]] as Array<[number, Family]>) {
      try {
        overlayMtu(mtu, fam);
        expect.unreachable(`${mtu}/${fam}`);
      } catch (e) {
        expect(isOvnError(e, 'OVN_ERR_INVALID'), `${mtu}/${fam}`).toBe(true);
      }
    }
    expect(() => overlayMtu(1500, 5 as Family)).toThrow(/family/);
  });

  it('always leaves room for the encapsulation (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 138, max: 65_536 }), fc.constantFrom<Family>(4, 6), (under, fam) => {
      const over = overlayMtu(under, fam);
      expect(over + VXLAN_OVERHEAD[fam]).toBe(under);
      expect(over).toBeGreaterThanOrEqual(68);
    }));
  });
});
