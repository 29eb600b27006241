/** IPAM, the pure part: usable range, reserved addresses, lowest free, derived MACs. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseIp, parseSubnet } from '../../src/lib/ip.js';
import { addressProblem, capacity, checkRequestedAddress, endpointMac, endpointMacOf, gatewayAddress, lowestFree, subnetOf, usableRange } from '../../src/control/ipam.js';

const v4 = parseSubnet('10.77.0.0/24');
const v6 = parseSubnet('fd77::/64');
const val = (ip: string) => parseIp(ip)!.value;

describe('IPAM ranges', () => {
  it('reserves network, gateway (first usable) and last address', () => {
    expect(usableRange(v4)).toEqual({ first: val('10.77.0.2'), last: val('10.77.0.254') });
    expect(gatewayAddress(v4)).toBe('10.77.0.1');
    expect(capacity(v4)).toBe(253n);
    expect(capacity(parseSubnet('10.0.0.0/29'))).toBe(5n);
    expect(usableRange(v6).first).toBe(val('fd77::2'));
    expect(gatewayAddress(v6)).toBe('fd77::1');
  });

  it('explains why an address cannot be an endpoint', () => {
    const p = (ip: string) => addressProblem(v4, parseIp(ip)!, 'demo');
    expect(p('10.77.0.0')).toMatch(/network address/);
    expect(p('10.77.0.1')).toMatch(/reserved as the gateway/);
    expect(p('10.77.0.255')).toMatch(/broadcast address/);
    expect(p('10.77.1.5')).toBe('10.77.1.5 is outside network "demo"\'s subnet 10.77.0.0/24');
    expect(p('fd77::5')).toMatch(/IPv6 address but network "demo" has the IPv4 subnet/);
    expect(p('10.77.0.2')).toBeUndefined();
    expect(p('10.77.0.254')).toBeUndefined();
  });

  it('checkRequestedAddress canonicalises, and refuses with OVN_ERR_INVALID', () => {
    expect(checkRequestedAddress(v6, 'FD77:0:0::0a', 'demo').address).toBe('fd77::a');
    for (const bad of ['nope', '10.77.0.1', '10.77.0.0/24', '']) {
      expect(() => checkRequestedAddress(v4, bad, 'demo')).toThrow(expect.objectContaining({ code: 'OVN_ERR_INVALID' }));
    }
    expect(() => subnetOf('demo', undefined)).toThrow(/has no subnet/);
  });

  it('lowestFree returns the lowest usable address not used, skipping taken MACs, and undefined when full', () => {
    expect(lowestFree(v4, new Set())).toBe(val('10.77.0.2'));
    expect(lowestFree(v4, new Set([val('10.77.0.2'), val('10.77.0.3'), val('10.77.0.5')]))).toBe(val('10.77.0.4'));
    const small = parseSubnet('10.0.0.0/29');
    const all = new Set([2n, 3n, 4n, 5n, 6n].map((k) => small.network + k));
    expect(lowestFree(small, all)).toBeUndefined();
    expect(lowestFree(v6, new Set(), new Set([endpointMac(val('fd77::2'), 6)]))).toBe(val('fd77::3'));
  });

  it('property: the result is usable, free, and nothing lower is both', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { maxLength: 16 }), (taken) => {
      const s = parseSubnet('10.9.0.0/28');
      const used = new Set(taken.map((k) => s.network + BigInt(k)));
      const got = lowestFree(s, used);
      const { first, last } = usableRange(s);
      const free = [...Array(16).keys()].map((k) => s.network + BigInt(k)).filter((v) => v >= first && v <= last && !used.has(v));
      expect(got).toBe(free[0]);
    }));
  });
});

describe('endpoint MACs', () => {
  it('are 02:42 + the IPv4 address (as Docker), 06:42 + the low 32 bits for IPv6: unicast, locally administered', () => {
    expect(endpointMacOf('10.77.0.5')).toBe('02:42:0a:4d:00:05');
    expect(endpointMacOf('172.17.0.2')).toBe('02:42:ac:11:00:02');
    expect(endpointMacOf('fd77::1:ff05')).toBe('06:42:00:01:ff:05');
    fc.assert(fc.property(fc.ipV4(), fc.ipV6(), (a, b) => {
      for (const ip of [a, b]) {
        const first = parseInt(endpointMacOf(ip).slice(0, 2), 16);
        expect(first & 1).toBe(0);
        expect(first & 2).toBe(2);
      }
    }));
    expect(() => endpointMacOf('x')).toThrow(expect.objectContaining({ code: 'OVN_ERR_INVALID' }));
  });
});
