/**
 * Underlay address and MTU lookups against the real kernel, in a namespace of the test's own.
 *
 *   ovt-mtu-XXXXXX
 *   +-------------------------------------------------------------+
 *   |  lo    127.0.0.1/8, ::1                       mtu 65536      |
 *   |  und0  192.0.2.1/24, 2001:db8::1/64 (nodad),                  |
 *   |        2001:db8::2/64 (tentative: peer down, DAD never ends)  |
 *   |        mtu 9000 ---- veth ---- und1 (down)                    |
 *   |  ll0   fe80::5/64 only ---- veth ---- ll1                     |
 *   +-------------------------------------------------------------+
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, cleanupNetns } from '../helpers/netns.js';
import { isOvnError } from '../../src/lib/errors.js';
import { addressOfInterface, interfaceOfAddress, overlayMtu, underlayMtuFor } from '../../src/host/mtu.js';

async function rejection(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  throw new Error('expected the call to fail');
}

let ns: Netns;
let netns: string;

beforeAll(() => {
  ns = new Netns('mtu');
  netns = ns.name;
  ns.ip(['link', 'add', 'und0', 'mtu', '9000', 'type', 'veth', 'peer', 'name', 'und1']);
  ns.ip(['addr', 'add', '192.0.2.1/24', 'dev', 'und0']);
  ns.ip(['addr', 'add', '2001:db8::1/64', 'dev', 'und0', 'nodad']);
  ns.ip(['addr', 'add', '2001:db8::2/64', 'dev', 'und0']);
  ns.ip(['link', 'set', 'und0', 'up']);
  ns.ip(['link', 'add', 'll0', 'type', 'veth', 'peer', 'name', 'll1']);
  ns.ip(['addr', 'add', 'fe80::5/64', 'dev', 'll0']);
});

afterAll(() => {
  ns.destroy();
  cleanupNetns();
});

describe('underlayMtuFor', () => {
  it('is the MTU of the interface holding the address, whatever its spelling', async () => {
    expect(await underlayMtuFor('192.0.2.1', { netns })).toBe(9000);
    expect(await underlayMtuFor('2001:DB8:0:0::1', { netns })).toBe(9000);
    expect(await underlayMtuFor('127.0.0.1', { netns })).toBe(65_536);
    expect(overlayMtu(await underlayMtuFor('192.0.2.1', { netns }), 4)).toBe(8950);
    expect(overlayMtu(await underlayMtuFor('2001:db8::1', { netns }), 6)).toBe(8930);
  });

  it('follows an MTU change', async () => {
    ns.ip(['link', 'set', 'und0', 'mtu', '1400']);
    try {
      expect(await underlayMtuFor('192.0.2.1', { netns })).toBe(1400);
    } finally {
      ns.ip(['link', 'set', 'und0', 'mtu', '9000']);
    }
  });

  it('names the interface and family', async () => {
    expect(await interfaceOfAddress('2001:db8::1', { netns })).toMatchObject({ ifname: 'und0', family: 6, mtu: 9000, prefixlen: 64 });
  });

  it('says which addresses exist when none matches', async () => {
    const e = await rejection(underlayMtuFor('192.0.2.99', { netns }));
    expect(isOvnError(e, 'OVN_ERR_NOT_FOUND')).toBe(true);
    expect(e.message).toMatch(/no interface of this host holds 192\.0\.2\.99/);
    expect(e.message).toContain('192.0.2.1 (und0)');
    expect(isOvnError(await rejection(underlayMtuFor('not-an-ip', { netns })), 'OVN_ERR_INVALID')).toBe(true);
  });
});

describe('addressOfInterface', () => {
  it('gives the first global address, of the family asked for', async () => {
    expect(await addressOfInterface('und0', { netns })).toBe('192.0.2.1');
    expect(await addressOfInterface('und0', { netns, family: 4 })).toBe('192.0.2.1');
  });

  it('prefers an address that finished DAD over a tentative one, and never a link-local', async () => {
    const raw = JSON.parse(ns.ip(['-j', '-6', 'addr', 'show', 'dev', 'und0'])) as Array<{ addr_info: Array<{ local: string; tentative?: boolean }> }>;
    const tentative = raw[0].addr_info.find((a) => a.local === '2001:db8::2');
    expect(tentative?.tentative).toBe(true);
    expect(await addressOfInterface('und0', { netns, family: 6 })).toBe('2001:db8::1');
  });

  it('explains a missing interface and one without a global address', async () => {
    const missing = await rejection(addressOfInterface('eth9', { netns }));
    expect(isOvnError(missing, 'OVN_ERR_NOT_FOUND')).toBe(true);
    expect(missing.message).toMatch(/interface eth9 does not exist \(interfaces here: .*und0/);
    const linkLocal = await rejection(addressOfInterface('ll0', { netns }));
    expect(isOvnError(linkLocal, 'OVN_ERR_NOT_FOUND')).toBe(true);
    expect(linkLocal.message).toMatch(/ll0 has no global address/);
    const noV4 = await rejection(addressOfInterface('ll0', { netns, family: 4 }));
    expect(noV4.message).toMatch(/no global IPv4 address/);
    expect(isOvnError(await rejection(addressOfInterface('bad/name', { netns })), 'OVN_ERR_INVALID')).toBe(true);
  });
});
