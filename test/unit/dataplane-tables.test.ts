import { describe, it, expect } from 'vitest';
import { addressWords, canonicalAddress, PeerTable } from '../../src/dataplane/peers.js';
import { Membership } from '../../src/dataplane/membership.js';
import { VniTable } from '../../src/dataplane/vni-table.js';
import { NetworkTable } from '../../src/dataplane/networks.js';
import { decodeVxlan } from '../../src/dataplane/vxlan.js';

const w = (a: string) => addressWords(a)!;

describe('addressWords', () => {
  it('maps IPv4 to ::ffff:a.b.c.d and IPv6 to its four words', () => {
    expect([...w('192.0.2.1')]).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect([...w('::ffff:192.0.2.1')]).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect([...w('2001:db8::1')]).toEqual([0x20010db8, 0, 0, 1]);
    expect(addressWords('300.1.1.1')).toBeUndefined();
    expect(addressWords('host.example')).toBeUndefined();
    expect(canonicalAddress('2001:DB8:0::1')).toBe('2001:db8::1');
  });
});

describe('PeerTable', () => {
  it('adds at the lowest free index and finds peers by address words', () => {
    const t = new PeerTable(8);
    const a = t.add('a', '10.0.0.1', w('10.0.0.1'), 4789);
    const b = t.add('b', '2001:db8::2', w('2001:db8::2'), 4790);
    expect([a, b]).toEqual([0, 1]);
    expect(t.lookupAt(w('10.0.0.1'), 0)).toBe(0);
    expect(t.lookupAt(w('2001:db8::2'), 0)).toBe(1);
    expect(t.lookupAt(w('10.0.0.2'), 0)).toBe(-1);
    expect(t.indexOf('b')).toBe(1);
    expect(t.idOf(0)).toBe('a');
    expect(t.portOf(1)).toBe(4790);
    t.remove(a);
    expect(t.lookupAt(w('10.0.0.1'), 0)).toBe(-1);
    expect(t.add('c', '10.0.0.3', w('10.0.0.3'), 1)).toBe(0);
    expect(t.count).toBe(2);
    expect(t.indices()).toEqual([0, 1]);
  });

  it('refuses a duplicate id or address, and more than maxPeers', () => {
    const t = new PeerTable(2);
    t.add('a', '10.0.0.1', w('10.0.0.1'), 1);
    expect(() => t.add('a', '10.0.0.2', w('10.0.0.2'), 1)).toThrow(expect.objectContaining({ code: 'OVN_ERR_EXISTS' }));
    expect(() => t.add('b', '::ffff:10.0.0.1', w('::ffff:10.0.0.1'), 1)).toThrow(expect.objectContaining({ code: 'OVN_ERR_EXISTS' }));
    t.add('b', '10.0.0.2', w('10.0.0.2'), 1);
    expect(() => t.add('c', '10.0.0.3', w('10.0.0.3'), 1)).toThrow(expect.objectContaining({ code: 'OVN_ERR_CAPACITY' }));
    expect(t.count).toBe(2);
  });

  it('update moves a peer; unbind/bind lets two peers swap addresses', () => {
    const t = new PeerTable(4);
    t.add('a', '10.0.0.1', w('10.0.0.1'), 1);
    t.add('b', '10.0.0.2', w('10.0.0.2'), 1);
    expect(() => t.update(0, '10.0.0.2', w('10.0.0.2'), 1)).toThrow();
    expect(t.lookupAt(w('10.0.0.1'), 0)).toBe(0);
    t.unbind(0);
    t.unbind(1);
    t.bind(0, '10.0.0.2', w('10.0.0.2'), 1);
    t.bind(1, '10.0.0.1', w('10.0.0.1'), 1);
    expect(t.lookupAt(w('10.0.0.2'), 0)).toBe(0);
    expect(t.lookupAt(w('10.0.0.1'), 0)).toBe(1);
    t.update(0, '10.0.0.9', w('10.0.0.9'), 2);
    expect(t.lookupAt(w('10.0.0.2'), 0)).toBe(-1);
    expect(t.addressOf(0)).toBe('10.0.0.9');
  });

  it('hash survives many adds and removes (collisions, back-shift)', () => {
    const t = new PeerTable(256);
    for (let i = 0; i < 256; i++) t.add(`p${i}`, `10.1.${i >> 8}.${i & 255}`, w(`10.1.${i >> 8}.${i & 255}`), 1);
    for (let i = 0; i < 256; i += 2) t.remove(i);
    for (let i = 0; i < 256; i++) expect(t.lookupAt(w(`10.1.0.${i}`), 0)).toBe(i % 2 ? i : -1);
  });
});

describe('Membership', () => {
  it('tracks bits and rebuilds ascending flood lists', () => {
    const m = new Membership(4, 70);
    expect(m.set(1, 65, true)).toBe(true);
    expect(m.set(1, 3, true)).toBe(true);
    expect(m.set(1, 3, true)).toBe(false);
    m.set(2, 3, true);
    m.rebuild(1);
    m.rebuild(2);
    expect([...m.flood[1]]).toEqual([3, 65]);
    expect(m.isMember(1, 65)).toBe(true);
    expect(m.isMember(0, 65)).toBe(false);
    expect(m.networksOf(3)).toEqual([1, 2]);
    m.set(1, 3, false);
    m.rebuild(1);
    expect([...m.flood[1]]).toEqual([65]);
    m.clearNetwork(1);
    expect(m.flood[1].length).toBe(0);
    expect(m.isMember(1, 65)).toBe(false);
    expect(m.isMember(2, 3)).toBe(true);
  });
});

describe('VniTable and NetworkTable', () => {
  it('maps VNIs to indices through collisions and deletions', () => {
    const t = new VniTable(64);
    for (let v = 0; v < 64; v++) t.set(v * 4096, v);
    for (let v = 0; v < 64; v += 2) expect(t.delete(v * 4096)).toBe(true);
    expect(t.delete(12345)).toBe(false);
    for (let v = 0; v < 64; v++) expect(t.lookup(v * 4096)).toBe(v % 2 ? v : -1);
  });

  it('allocates lowest free index and prebuilds the header', () => {
    const n = new NetworkTable(2);
    expect(n.add({ vni: 700, name: 'a', tapName: 'ovtap-700' })).toBe(0);
    expect(n.add({ vni: 5, name: 'b', tapName: 'ovtap-5' })).toBe(1);
    expect(() => n.add({ vni: 6, name: 'c', tapName: 'x' })).toThrow(expect.objectContaining({ code: 'OVN_ERR_CAPACITY' }));
    expect(() => n.add({ vni: 5, name: 'c', tapName: 'x' })).toThrow(expect.objectContaining({ code: 'OVN_ERR_EXISTS' }));
    expect(decodeVxlan(n.headers, 8, 8)).toBe(5);
    n.remove(0);
    expect(n.lookup(700)).toBe(-1);
    expect(n.add({ vni: 9, name: 'd', tapName: 'ovtap-9' })).toBe(0);
    expect(n.indices()).toEqual([0, 1]);
    n.rename(0, 'renamed');
    expect(n.spec(0)?.name).toBe('renamed');
  });
});
