import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isOvnError } from '../../src/lib/errors.js';
import {
  MAX_IFNAME_LENGTH, MAX_VNI, MIN_VNI, bridgeName, endpointVethNames, isEndpointVethName, isValidIfName,
  parseDeviceName, tapName, validateIfName, validateNetnsName, validateVni, vniFromDeviceName,
} from '../../src/host/names.js';

function codeOf(fn: () => unknown): string | undefined {
  try { fn(); } catch (e) { return isOvnError(e) ? e.code : 'not an OvnError'; }
  return undefined;
}

describe('bridge and TAP names', () => {
  it('names the VNI edges within IFNAMSIZ', () => {
    expect(bridgeName(1)).toBe('ovbr-1');
    expect(tapName(1)).toBe('ovtap-1');
    expect(bridgeName(16_777_215)).toBe('ovbr-16777215');
    expect(tapName(16_777_215)).toBe('ovtap-16777215');
    expect(tapName(MAX_VNI).length).toBeLessThanOrEqual(MAX_IFNAME_LENGTH);
    expect(MIN_VNI).toBe(1);
    expect(MAX_VNI).toBe(16_777_215);
  });

  it('refuses VNIs outside 1..16777215 with OVN_ERR_INVALID', () => {
    for (const bad of [0, -1, 16_777_216, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32]) {
      expect(codeOf(() => bridgeName(bad)), String(bad)).toBe('OVN_ERR_INVALID');
      expect(codeOf(() => tapName(bad)), String(bad)).toBe('OVN_ERR_INVALID');
      expect(codeOf(() => validateVni(bad)), String(bad)).toBe('OVN_ERR_INVALID');
    }
    expect(codeOf(() => bridgeName('7' as unknown as number))).toBe('OVN_ERR_INVALID');
  });

  it('parses back every name it makes (property)', () => {
    fc.assert(fc.property(fc.integer({ min: MIN_VNI, max: MAX_VNI }), (vni) => {
      const br = bridgeName(vni);
      const tap = tapName(vni);
      expect(isValidIfName(br) && isValidIfName(tap)).toBe(true);
      expect(parseDeviceName(br)).toEqual({ kind: 'bridge', vni });
      expect(parseDeviceName(tap)).toEqual({ kind: 'tap', vni });
      expect(vniFromDeviceName(br)).toBe(vni);
      expect(vniFromDeviceName(tap)).toBe(vni);
    }));
  });

  it('parses the edges', () => {
    expect(vniFromDeviceName('ovbr-1')).toBe(1);
    expect(vniFromDeviceName('ovtap-16777215')).toBe(16_777_215);
  });

  it('rejects names it would never make', () => {
    const bad = [
      'ovbr-0', 'ovtap-0', 'ovbr-01', 'ovbr-007', 'ovbr-16777216', 'ovtap-99999999', 'ovbr-123456789', 'ovbr-',
      'ovbr--1', 'ovbr-+1', 'ovbr-1 ', ' ovbr-1', 'ovbr-1\n', 'ovbr-1a', 'ovbr-1e3', 'ovbr-0x10', 'OVBR-1', 'ovbr1',
      'ovtap1', 'ovbrx-1', 'ovtap-1.0', 'ovbr-\u0661', 'ovv-1-abcd', 'eth0', '', 'ovbr-1/2',
    ];
    for (const name of bad) {
      expect(vniFromDeviceName(name), JSON.stringify(name)).toBeUndefined();
      expect(parseDeviceName(name), JSON.stringify(name)).toBeUndefined();
    }
    expect(vniFromDeviceName(undefined as unknown as string)).toBeUndefined();
  });

  it('never accepts a random string that is not exactly a name it makes (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 20 }), (s) => {
      const parsed = parseDeviceName(s);
      if (parsed) expect(parsed.kind === 'bridge' ? bridgeName(parsed.vni) : tapName(parsed.vni)).toBe(s);
    }));
  });
});

describe('interface and namespace name validation', () => {
  it('follows the kernel rule and refuses option-like names', () => {
    for (const ok of ['eth0', 'a', '123456789012345', 'ovbr-1', 'br.100', 'x_y-z@1']) {
      expect(isValidIfName(ok), ok).toBe(true);
      expect(validateIfName(ok)).toBe(ok);
    }
    for (const bad of ['', '1234567890123456', '.', '..', 'a/b', 'a:b', 'a b', 'a\tb', '-x', 'a\0b']) {
      expect(isValidIfName(bad), JSON.stringify(bad)).toBe(false);
      expect(codeOf(() => validateIfName(bad)), JSON.stringify(bad)).toBe('OVN_ERR_INVALID');
    }
  });

  it('says when a name is too long', () => {
    expect(() => validateIfName('a'.repeat(16))).toThrow(/longer than 15/);
  });

  it('accepts netns names and refuses paths and options', () => {
    expect(validateNetnsName('ovt-hd-abc123')).toBe('ovt-hd-abc123');
    for (const bad of ['', '../x', 'a/b', '-n', '.hidden', 'a b']) {
      expect(codeOf(() => validateNetnsName(bad)), bad).toBe('OVN_ERR_INVALID');
    }
  });
});

describe('endpoint veth names', () => {
  it('are stable, 15 characters, and differ per endpoint and per VNI', () => {
    const a = endpointVethNames(42, 'container-a');
    expect(endpointVethNames(42, 'container-a')).toEqual(a);
    expect(a.hostIf).toMatch(/^ovv[0-9a-f]{12}$/);
    expect(a.peerIf).toBe(`ovp${a.hostIf.slice(3)}`);
    expect(a.hostIf.length).toBe(15);
    expect(endpointVethNames(42, 'container-b').hostIf).not.toBe(a.hostIf);
    expect(endpointVethNames(43, 'container-a').hostIf).not.toBe(a.hostIf);
    expect(isEndpointVethName(a.hostIf)).toBe(true);
    expect(isEndpointVethName(a.peerIf)).toBe(false);
    expect(isEndpointVethName('ovbr-42')).toBe(false);
  });

  it('are valid interface names for every VNI and id (property)', () => {
    fc.assert(fc.property(fc.integer({ min: MIN_VNI, max: MAX_VNI }), fc.string({ minLength: 1 }), (vni, id) => {
      const n = endpointVethNames(vni, id);
      expect(isValidIfName(n.hostIf) && isValidIfName(n.peerIf)).toBe(true);
      expect(parseDeviceName(n.hostIf)).toBeUndefined();
    }));
  });

  it('refuses an empty endpoint id or a bad VNI', () => {
    expect(codeOf(() => endpointVethNames(1, ''))).toBe('OVN_ERR_INVALID');
    expect(codeOf(() => endpointVethNames(0, 'x'))).toBe('OVN_ERR_INVALID');
  });
});
