import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_PREFIX, KeyLayout, NETWORK_NAME_RE, normalizePrefix } from '../../src/control/keys.js';
import { MAX_VNI } from '../../src/control/documents.js';
import { CONFIG_DEFAULTS, MAX_VNI as CONFIG_MAX_VNI, NETWORK_NAME_RE as CONFIG_NAME_RE } from '../../src/daemon/config.js';
import { isOvnError } from '../../src/lib/errors.js';

describe('key layout', () => {
  const k = new KeyLayout();

  it('builds the documented keys under <prefix>v1/', () => {
    expect(k.network('blue')).toBe('ovnetd/v1/networks/blue');
    expect(k.host('host-a')).toBe('ovnetd/v1/hosts/host-a');
    expect(k.endpoint('blue', '10.1.0.5')).toBe('ovnetd/v1/endpoints/blue/10.1.0.5');
    expect(k.endpointsPrefix('blue')).toBe('ovnetd/v1/endpoints/blue/');
    expect(k.networksLock).toBe('ovnetd/v1/locks/networks');
    expect(k.networksPrefix).toBe('ovnetd/v1/networks/');
    expect(k.hostsPrefix).toBe('ovnetd/v1/hosts/');
    expect(new KeyLayout('prod/ovnetd').network('x')).toBe('prod/ovnetd/v1/networks/x');
    expect(new KeyLayout('').network('x')).toBe('v1/networks/x');
  });

  it('canonicalises endpoint IPs so one address has one key', () => {
    expect(k.endpoint('blue', 'FD00:0:0::0005')).toBe('ovnetd/v1/endpoints/blue/fd00::5');
    expect(k.parseEndpointKey('ovnetd/v1/endpoints/blue/fd00::5')).toEqual({ network: 'blue', ip: 'fd00::5' });
    expect(k.parseEndpointKey('ovnetd/v1/endpoints/blue/FD00::5')).toBeUndefined();
    expect(k.parseEndpointKey('ovnetd/v1/endpoints/blue/fd00:0::5')).toBeUndefined();
  });

  it('parses its own keys and returns undefined for foreign ones', () => {
    expect(k.parseNetworkKey('ovnetd/v1/networks/blue')).toBe('blue');
    expect(k.parseHostKey('ovnetd/v1/hosts/host-a.b_c')).toBe('host-a.b_c');
    for (const foreign of [
      'ovnetd/v2/networks/blue', 'other/v1/networks/blue', 'ovnetd/v1/networks/', 'ovnetd/v1/networks/Blue',
      'ovnetd/v1/networks/blue/extra', 'ovnetd/v1/networks/' + 'a'.repeat(33), 'xovnetd/v1/networks/blue',
    ]) expect(k.parseNetworkKey(foreign)).toBeUndefined();
    for (const foreign of ['ovnetd/v1/hosts/', 'ovnetd/v1/hosts/a/b', 'ovnetd/v1/hosts/.hidden']) expect(k.parseHostKey(foreign)).toBeUndefined();
    for (const foreign of ['ovnetd/v1/endpoints/blue', 'ovnetd/v1/endpoints/blue/', 'ovnetd/v1/endpoints/blue/not-ip', 'ovnetd/v1/endpoints/Blue/10.0.0.1',
      'ovnetd/v1/endpoints/blue/10.0.0.1/x', 'ovnetd/v1/endpoints/blue/10.0.0.0/24']) expect(k.parseEndpointKey(foreign)).toBeUndefined();
  });

  it('refuses invalid names, host ids, IPs and prefixes with OVN_ERR_INVALID', () => {
    for (const f of [() => k.network('Blue'), () => k.endpointsPrefix(''), () => k.host('a/b'), () => k.endpoint('blue', '10.0.0.256'),
      () => normalizePrefix('/abs'), () => normalizePrefix('a//b'), () => normalizePrefix('a/../b'), () => normalizePrefix('has space')]) {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(isOvnError(err, 'OVN_ERR_INVALID')).toBe(true);
    }
    expect(normalizePrefix('ovnetd')).toBe('ovnetd/');
    expect(normalizePrefix('a/b/')).toBe('a/b/');
  });

  it('round-trips keys of any valid name and IP, and parsing never throws (property)', () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-z0-9-]{1,32}$/), fc.oneof(fc.ipV4(), fc.ipV6()), (name, ip) => {
      expect(k.parseNetworkKey(k.network(name))).toBe(name);
      const ek = k.endpoint(name, ip);
      expect(k.parseEndpointKey(ek)?.network).toBe(name);
      expect(k.endpoint(name, k.parseEndpointKey(ek)!.ip)).toBe(ek);
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.string(), (s) => {
      for (const key of [s, k.networksPrefix + s, k.hostsPrefix + s, k.allEndpointsPrefix + s]) {
        k.parseNetworkKey(key);
        k.parseHostKey(key);
        k.parseEndpointKey(key);
      }
    }), { numRuns: 1000 });
  });

  it('agrees with the agent configuration on defaults and limits', () => {
    expect(DEFAULT_PREFIX).toBe(CONFIG_DEFAULTS.storePrefix);
    expect(NETWORK_NAME_RE.source).toBe(CONFIG_NAME_RE.source);
    expect(MAX_VNI).toBe(CONFIG_MAX_VNI);
  });
});
