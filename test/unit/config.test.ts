import { describe, it, expect } from 'vitest';
import { buildConfig, parsePeer } from '../../src/daemon/config.js';
import { isOvnError } from '../../src/lib/errors.js';
import { parseSubnet } from '../../src/lib/ip.js';

const good = { advertise: '192.168.77.1', port: 4789, networks: [{ name: 'demo', vni: 42, subnet: '10.77.0.0/24' }], peers: ['192.168.77.2'] };

function refusal(file: Record<string, unknown>, flags: Record<string, unknown> = {}): string {
  try {
    buildConfig(file, flags);
  } catch (e) {
    expect(isOvnError(e, 'OVN_ERR_CONFIG')).toBe(true);
    const msg = (e as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
  throw new Error('expected a refusal');
}

describe('agent configuration', () => {
  it('accepts the documented example and fills defaults', () => {
    const c = buildConfig(good, {});
    expect(c.networks).toEqual([{ name: 'demo', vni: 42, subnet: '10.77.0.0/24' }]);
    expect(c.peers).toEqual([{ address: '192.168.77.2', port: 4789 }]);
    expect(c.stateDir).toBe('/var/lib/ovnetd');
    expect(c.controlSocket).toBe('/run/ovnetd/ovnetd.sock');
    expect(c.fdbCapacity).toBe(65536);
  });

  it('flags override the file', () => {
    const c = buildConfig(good, { port: 4790, peers: ['192.168.77.9:5000'], stateDir: '/tmp/x' });
    expect(c.port).toBe(4790);
    expect(c.peers).toEqual([{ address: '192.168.77.9', port: 5000 }]);
    expect(c.stateDir).toBe('/tmp/x');
  });

  it.each([
    [{ ...good, vni: 1 }, /^vni: unknown field/],
    [{ ...good, networks: [{ name: 'demo', vni: 0 }] }, /^networks\[0\]\.vni: .*1-16777215/],
    [{ ...good, networks: [{ name: 'demo', vni: 16777216 }] }, /^networks\[0\]\.vni/],
    [{ ...good, networks: [{ name: 'Demo!', vni: 5 }] }, /^networks\[0\]\.name/],
    [{ ...good, networks: [{ name: 'a', vni: 5, subnet: '10.0.0.1/24' }] }, /^networks\[0\]\.subnet: .*host bits/],
    [{ ...good, networks: [{ name: 'a', vni: 5, subnet: '10.0.0.0/31' }] }, /^networks\[0\]\.subnet: .*no room/],
    [{ ...good, networks: [{ name: 'a', vni: 5 }, { name: 'a', vni: 6 }] }, /^networks\[1\]\.name: duplicate/],
    [{ ...good, networks: [{ name: 'a', vni: 5 }, { name: 'b', vni: 5 }] }, /^networks\[1\]\.vni: duplicate/],
    [{ ...good, networks: [{ name: 'a', vni: 5, subnet: '10.0.0.0/16' }, { name: 'b', vni: 6, subnet: '10.0.1.0/24' }] }, /^networks\[1\]\.subnet: .*overlaps/],
    [{ ...good, advertise: '300.1.1.1' }, /^advertise: not an IP/],
    [{ ...good, advertise: undefined }, /^advertise: required/],
    [{ ...good, port: 70000 }, /^port: /],
    [{ ...good, peers: ['fd00::1'] }, /^peers\[0\]: .*IPv6 but the underlay is IPv4/],
    [{ ...good, peers: ['192.168.77.2', '192.168.77.2:4790'] }, /^peers\[1\]: duplicate/],
    [{ ...good, peers: ['192.168.77.1'] }, /^peers\[0\]: .*own advertise/],
    [{ ...good, peers: 'x' }, /^peers: must be an array/],
    [{ ...good, logLevel: 'loud' }, /^logLevel: /],
  ])('refuses %j with one line naming the field', (file, re) => {
    expect(refusal(file as Record<string, unknown>)).toMatch(re);
  });

  it('parses peers with ports, IPv6 in brackets, and objects', () => {
    expect(parsePeer('p', '[fd00::2]:4790', 4789)).toEqual({ address: 'fd00::2', port: 4790 });
    expect(parsePeer('p', { address: '10.0.0.1' }, 4789)).toEqual({ address: '10.0.0.1', port: 4789 });
    expect(() => parsePeer('p', '10.0.0.1:0', 4789)).toThrow(/port/);
  });
});

describe('subnets', () => {
  it('canonicalises and accepts IPv6', () => {
    expect(parseSubnet('fd00:0:0:0::/64').cidr).toBe('fd00::/64');
    expect(parseSubnet('10.1.0.0/16').prefix).toBe(16);
  });
  it.each(['10.0.0.0', '10.0.0.0/33', 'x/24', '10.0.0.0/-1', 'fd00::1/64', '', '10.0.0.0/24/1'])('refuses %j', (s) => {
    expect(() => parseSubnet(s)).toThrow();
  });
});
