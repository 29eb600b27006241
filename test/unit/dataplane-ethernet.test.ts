import { describe, it, expect } from 'vitest';
import {
  etherType, flowHash, formatMac, isMulticastHi, l3Offset, macHi, macLo, parseMac, writeMac,
} from '../../src/dataplane/ethernet.js';
import { ethFrame, ipv4Frame, ipv6Frame } from '../fakes/frames.js';

const A = '02:42:0a:00:00:05';
const B = '02:42:0a:00:00:06';

describe('MAC helpers', () => {
  it('reads hi 16 / lo 32 bits, lo unsigned', () => {
    const b = Buffer.from([0, 0, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0]);
    expect(macHi(b, 2)).toBe(0xfedc);
    expect(macLo(b, 2)).toBe(0xba987654);
    expect(macLo(b, 2)).toBeGreaterThan(0);
  });

  it('parses and formats round trip, case and separator insensitive', () => {
    for (const text of [A, 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', '80:01:02:fe:ff:80']) {
      const m = parseMac(text)!;
      expect(formatMac(m.hi, m.lo)).toBe(text);
      const buf = Buffer.alloc(6);
      writeMac(buf, 0, m.hi, m.lo);
      expect(macHi(buf, 0)).toBe(m.hi);
      expect(macLo(buf, 0)).toBe(m.lo);
    }
    expect(parseMac('02-42-0A-00-00-05')).toEqual(parseMac(A));
  });

  it('rejects what is not a MAC', () => {
    for (const bad of ['', '02:42:0a:00:00', '02:42:0a:00:00:05:07', '02:42:0a:00:00:0g', '0242.0a00.0005', ' 02:42:0a:00:00:05', 42 as unknown as string]) {
      expect(parseMac(bad)).toBeUndefined();
    }
  });

  it('I/G bit decides multicast (broadcast included)', () => {
    expect(isMulticastHi(parseMac('ff:ff:ff:ff:ff:ff')!.hi)).toBe(true);
    expect(isMulticastHi(parseMac('01:00:5e:00:00:01')!.hi)).toBe(true);
    expect(isMulticastHi(parseMac('33:33:00:00:00:01')!.hi)).toBe(true);
    expect(isMulticastHi(parseMac(A)!.hi)).toBe(false);
    expect(isMulticastHi(parseMac('fe:ff:ff:ff:ff:ff')!.hi)).toBe(false);
  });
});

describe('ethertype', () => {
  it('reads the type, looking through one 802.1Q tag', () => {
    const plain = ethFrame({ dst: A, src: B, type: 0x0800 });
    const tagged = ethFrame({ dst: A, src: B, type: 0x86dd, vlan: 7 });
    expect(etherType(plain, 0, plain.length)).toBe(0x0800);
    expect(l3Offset(plain, 0, plain.length)).toBe(14);
    expect(etherType(tagged, 0, tagged.length)).toBe(0x86dd);
    expect(l3Offset(tagged, 0, tagged.length)).toBe(18);
  });

  it('a tag with no room for the inner type is taken as the type', () => {
    const f = ethFrame({ dst: A, src: B, type: 0x8100, minPayload: 0 });
    expect(etherType(f, 0, 14)).toBe(0x8100);
  });
});

const tcp = (sport: number, dport: number, extra: Partial<Parameters<typeof ipv4Frame>[0]> = {}) =>
  ipv4Frame({ dst: A, src: B, ipSrc: [10, 0, 0, 1], ipDst: [10, 0, 0, 2], proto: 6, sport, dport, ...extra });

describe('flowHash', () => {
  it('is a deterministic 16-bit value', () => {
    const f = tcp(1234, 80);
    const h = flowHash(f, 0, f.length);
    expect(Number.isInteger(h) && h >= 0 && h <= 0xffff).toBe(true);
    expect(flowHash(Buffer.from(f), 0, f.length)).toBe(h);
  });

  it('reads only [off, off+len)', () => {
    const f = tcp(1234, 80);
    const padded = Buffer.concat([Buffer.from([9, 9, 9]), f, Buffer.alloc(100, 0xab)]);
    expect(flowHash(padded, 3, f.length)).toBe(flowHash(f, 0, f.length));
  });

  it('TCP/UDP flows differ by port and ignore MACs', () => {
    const hashes = new Set<number>();
    for (let p = 1000; p < 1064; p++) hashes.add(flowHash(tcp(p, 80), 0, 76));
    expect(hashes.size).toBeGreaterThan(50);
    const other = ipv4Frame({ dst: B, src: A, ipSrc: [10, 0, 0, 1], ipDst: [10, 0, 0, 2], proto: 6, sport: 1000, dport: 80 });
    expect(flowHash(other, 0, other.length)).toBe(flowHash(tcp(1000, 80), 0, 76));
  });

  it('fragments hash on addresses and protocol only', () => {
    const a = tcp(1, 2, { moreFragments: true });
    const b = tcp(3, 4, { moreFragments: true });
    const c = tcp(5, 6, { fragOffset: 100 });
    expect(flowHash(a, 0, a.length)).toBe(flowHash(b, 0, b.length));
    expect(flowHash(a, 0, a.length)).toBe(flowHash(c, 0, c.length));
    expect(flowHash(a, 0, a.length)).not.toBe(flowHash(tcp(1, 2), 0, a.length));
  });

  it('protocols without ports hash on addresses', () => {
    const icmp = (sport: number) => ipv4Frame({ dst: A, src: B, ipSrc: [10, 0, 0, 1], ipDst: [10, 0, 0, 2], proto: 1, sport });
    expect(flowHash(icmp(1), 0, 76)).toBe(flowHash(icmp(2), 0, 76));
  });

  it('IPv6 flows use addresses and ports; 802.1Q is looked through', () => {
    const v6 = (sport: number, ipDst = 2) => ipv6Frame({ dst: A, src: B, ipSrc: [0xfd, 0, 1], ipDst: [0xfd, 0, ipDst], next: 17, sport, dport: 53 });
    const x = v6(1000);
    expect(flowHash(x, 0, x.length)).not.toBe(flowHash(v6(1001), 0, x.length));
    expect(flowHash(x, 0, x.length)).not.toBe(flowHash(v6(1000, 3), 0, x.length));
    const tagged = ethFrame({ dst: A, src: B, vlan: 5, type: 0x0800, payload: tcp(7, 8).subarray(14) });
    const tagged2 = ethFrame({ dst: B, src: A, vlan: 9, type: 0x0800, payload: tcp(7, 8).subarray(14) });
    expect(flowHash(tagged, 0, tagged.length)).toBe(flowHash(tagged2, 0, tagged2.length));
  });

  it('non-IP frames hash on MACs and ethertype, not payload', () => {
    const arp = (src: string, fill: number) => ethFrame({ dst: 'ff:ff:ff:ff:ff:ff', src, payload: Buffer.alloc(28, fill) });
    expect(flowHash(arp(A, 1), 0, 60)).toBe(flowHash(arp(A, 2), 0, 60));
    expect(flowHash(arp(A, 1), 0, 60)).not.toBe(flowHash(arp(B, 1), 0, 60));
  });

  it('truncated IP headers fall back to the MAC hash without reading past len', () => {
    const f = tcp(1, 2);
    for (let len = 14; len < f.length; len++) {
      const h = flowHash(f, 0, len);
      expect(h).toBe(flowHash(Buffer.from(f.subarray(0, len)), 0, len));
    }
  });
});
