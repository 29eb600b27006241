import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CorruptionReporter, decodeEndpoint, decodeHost, decodeNetwork, encodeEndpoint, encodeHost, encodeNetwork, MAX_VNI,
  type EndpointDoc, type HostDoc, type NetworkDoc,
} from '../../src/control/documents.js';
import { KeyLayout } from '../../src/control/keys.js';
import { isOvnError } from '../../src/lib/errors.js';
import { formatIp, parseSubnet } from '../../src/lib/ip.js';
import { decodeLock } from '../../src/control/lock.js';

const keys = new KeyLayout();
const T = '2025-03-04T05:06:07.123Z';

const net: NetworkDoc = { version: 1, name: 'blue', vni: 4096, subnet: '10.1.0.0/24', mtu: 1450, createdAt: T };
const host: HostDoc = { version: 1, id: 'host-a.example', address: '192.168.1.10', port: 4789, agentVersion: '0.1.0', startedAt: T };
const ep: EndpointDoc = { version: 1, network: 'blue', ip: '10.1.0.5', mac: '02:42:0a:01:00:05', host: 'host-a.example', name: 'web-1', createdAt: T };

// Arbitraries of valid documents.
const nameArb = fc.stringMatching(/^[a-z0-9-]{1,32}$/);
const hostIdArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const timeArb = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
const v4SubnetArb = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 29 })).map(([v, p]) => {
  const net = p === 0 ? 0 : (v >>> (32 - p)) << (32 - p) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${p}`;
});
const v6SubnetArb = fc.tuple(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 16, max: 125 }))
  .map(([a, b, p]) => parseSubnet(formatIp((((0xfd00n | BigInt(a)) << 16n) | BigInt(b)) << 96n >> BigInt(128 - p) << BigInt(128 - p), 6) + `/${p}`).cidr);
const macArb = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 })
  .map((b) => { b[0] = (b[0] & 0xfe) | 0x02; return b.map((x) => x.toString(16).padStart(2, '0')).join(':'); });
const netArb: fc.Arbitrary<NetworkDoc> = fc.record({
  version: fc.constant(1 as const), name: nameArb, vni: fc.integer({ min: 1, max: MAX_VNI }),
  subnet: fc.oneof(v4SubnetArb, v6SubnetArb), mtu: fc.option(fc.integer({ min: 1280, max: 65_000 }), { nil: undefined }), createdAt: timeArb,
}).map((d) => { if (d.mtu === undefined) delete d.mtu; return d; });
const hostArb: fc.Arbitrary<HostDoc> = fc.record({
  version: fc.constant(1 as const), id: hostIdArb, address: fc.oneof(fc.ipV4(), fc.constant('fd00::1')), port: fc.integer({ min: 1, max: 65535 }),
  agentVersion: fc.string({ minLength: 1, maxLength: 64 }), startedAt: timeArb,
});
const epArb: fc.Arbitrary<EndpointDoc> = fc.record({
  version: fc.constant(1 as const), network: nameArb, ip: fc.ipV4(), mac: macArb, host: hostIdArb,
  name: fc.option(fc.stringMatching(/^[a-z0-9-]{1,20}$/), { nil: undefined }), createdAt: timeArb,
}).map((d) => { if (d.name === undefined) delete d.name; return d; });

describe('document codecs', () => {
  it('round-trip the examples', () => {
    expect(decodeNetwork(keys, keys.network('blue'), encodeNetwork(net))).toEqual({ ok: true, value: net });
    expect(decodeHost(keys, keys.host(host.id), encodeHost(host))).toEqual({ ok: true, value: host });
    expect(decodeEndpoint(keys, keys.endpoint('blue', '10.1.0.5'), encodeEndpoint(ep))).toEqual({ ok: true, value: ep });
  });

  it('round-trip any valid document (property)', () => {
    fc.assert(fc.property(netArb, (d) => {
      expect(decodeNetwork(keys, keys.network(d.name), encodeNetwork(d))).toEqual({ ok: true, value: d });
    }), { numRuns: 300 });
    fc.assert(fc.property(hostArb, (d) => {
      expect(decodeHost(keys, keys.host(d.id), encodeHost(d))).toEqual({ ok: true, value: d });
    }), { numRuns: 300 });
    fc.assert(fc.property(epArb, (d) => {
      expect(decodeEndpoint(keys, keys.endpoint(d.network, d.ip), encodeEndpoint(d))).toEqual({ ok: true, value: d });
    }), { numRuns: 300 });
  });

  it('canonicalise addresses, subnets and MACs on read; ignore unknown fields', () => {
    const v6net = JSON.stringify({ ...net, subnet: 'FD00:0077:0000::/64', extra: { future: true } });
    expect(decodeNetwork(keys, keys.network('blue'), v6net)).toEqual({ ok: true, value: { ...net, subnet: 'fd00:77::/64' } });
    const h = JSON.stringify({ ...host, address: 'FD00:0:0::0001' });
    expect(decodeHost(keys, keys.host(host.id), h)).toEqual({ ok: true, value: { ...host, address: 'fd00::1' } });
    const e = JSON.stringify({ ...ep, ip: 'fd00::5', mac: '02:42:0A:01:00:05' });
    expect(decodeEndpoint(keys, keys.endpoint('blue', 'fd00::5'), e)).toEqual({ ok: true, value: { ...ep, ip: 'fd00::5', mac: '02:42:0a:01:00:05' } });
  });

  it.each([
    ['bad JSON', '{"version":1', 'value is not valid JSON'],
    ['JSON array', '[]', 'value is not a JSON object'],
    ['JSON null', 'null', 'value is not a JSON object'],
    ['wrong version', JSON.stringify({ ...net, version: 2 }), 'unsupported document version 2 (this agent reads version 1)'],
    ['string version', JSON.stringify({ ...net, version: '1' }), 'unsupported document version "1" (this agent reads version 1)'],
    ['key/name mismatch', JSON.stringify({ ...net, name: 'red' }), 'document names network "red" but sits at key of "blue"'],
    ['bad subnet', JSON.stringify({ ...net, subnet: '10.1.0.1/24' }), 'subnet: "10.1.0.1/24" has host bits set (did you mean 10.1.0.0/24?)'],
    ['subnet not a string', JSON.stringify({ ...net, subnet: 42 }), 'subnet 42 is not a CIDR'],
    ['bad VNI', JSON.stringify({ ...net, vni: 16_777_216 }), 'VNI 16777216 is not an integer in 1-16777215'],
    ['bad MTU', JSON.stringify({ ...net, mtu: 100 }), 'MTU 100 is not an integer in 576-65000'],
    ['bad time', JSON.stringify({ ...net, createdAt: 'yesterday' }), 'createdAt "yesterday" is not an ISO 8601 UTC time'],
    ['impossible date', JSON.stringify({ ...net, createdAt: '2025-13-45T00:00:00Z' }), 'createdAt "2025-13-45T00:00:00Z" is not an ISO 8601 UTC time'],
  ])('refuse a network with %s', (_what, value, reason) => {
    expect(decodeNetwork(keys, keys.network('blue'), value)).toEqual({ ok: false, reason });
  });

  it('refuse foreign keys and misplaced host/endpoint documents', () => {
    expect(decodeNetwork(keys, 'other/v1/networks/blue', encodeNetwork(net))).toEqual({ ok: false, reason: 'key is not a network key of this layout' });
    expect(decodeHost(keys, keys.host('host-b'), encodeHost(host))).toEqual({ ok: false, reason: 'document names host "host-a.example" but sits at key of "host-b"' });
    expect(decodeEndpoint(keys, keys.endpoint('blue', '10.1.0.6'), encodeEndpoint(ep)))
      .toEqual({ ok: false, reason: 'document is for blue/10.1.0.5 but sits at key of blue/10.1.0.6' });
    expect(decodeEndpoint(keys, 'ovnetd/v1/endpoints/blue/010.1.0.5', encodeEndpoint(ep))).toEqual({ ok: false, reason: 'key is not an endpoint key of this layout' });
    expect(decodeEndpoint(keys, keys.endpoint('blue', '10.1.0.5'), JSON.stringify({ ...ep, mac: '03:00:00:00:00:01' })))
      .toEqual({ ok: false, reason: 'mac "03:00:00:00:00:01" is a multicast address' });
    expect(decodeEndpoint(keys, keys.endpoint('blue', '10.1.0.5'), JSON.stringify({ ...ep, mac: '00:00:00:00:00:00' })))
      .toEqual({ ok: false, reason: 'mac "00:00:00:00:00:00" is all zeros' });
    expect(decodeHost(keys, keys.host(host.id), JSON.stringify({ ...host, port: 0 }))).toEqual({ ok: false, reason: 'port 0 is not in 1-65535' });
  });

  it('encoders refuse to write what decoders would refuse to read', () => {
    for (const f of [
      () => encodeNetwork({ ...net, vni: 0 }),
      () => encodeNetwork({ ...net, version: 2 as 1 }),
      () => encodeHost({ ...host, address: 'nowhere' }),
      () => encodeEndpoint({ ...ep, mac: 'ff:ff:ff:ff:ff:ff' }),
    ]) {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(isOvnError(err, 'OVN_ERR_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(/^refusing to write an invalid (network|host|endpoint) document: /);
    }
  });
});

describe('decoders never throw (fuzz)', () => {
  const keyArb = fc.oneof(fc.string(), fc.constantFrom(keys.network('blue'), keys.host('host-a.example'), keys.endpoint('blue', '10.1.0.5')),
    fc.string().map((s) => keys.networksPrefix + s), fc.string().map((s) => keys.allEndpointsPrefix + s));
  const valueArb = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.json(),
    fc.anything().map((v) => JSON.stringify(v) ?? 'undefined'),
    // Valid documents with one field replaced by anything: the decoders' edge cases.
    fc.tuple(fc.constantFrom<object>(net, host, ep), fc.string(), fc.anything())
      .map(([d, k, v]) => JSON.stringify({ ...d, [Object.keys(d)[k.length % Object.keys(d).length]]: v }) ?? '{}'),
  );

  it('on random keys and values, returning ok or a reason string', () => {
    fc.assert(fc.property(keyArb, valueArb, (key, value) => {
      for (const decode of [decodeNetwork, decodeHost, decodeEndpoint]) {
        const r = decode(keys, key, value);
        if (!r.ok) expect(typeof r.reason).toBe('string');
      }
      const lock = decodeLock(value);
      expect(typeof lock === 'string' || lock.version === 1).toBe(true);
      keys.parseNetworkKey(key);
      keys.parseHostKey(key);
      keys.parseEndpointKey(key);
    }), { numRuns: 3000 });
  });
});

describe('CorruptionReporter', () => {
  it('reports each key once, counts every occurrence, and re-arms after forget', () => {
    const said: string[] = [];
    const r = new CorruptionReporter((k, why) => said.push(`${k}: ${why}`));
    r.report('a', 'bad JSON');
    r.report('a', 'bad JSON');
    r.report('b', 'wrong version');
    r.report('a', 'another reason');
    expect(said).toEqual(['a: bad JSON', 'b: wrong version']);
    expect([r.total, r.count('a'), r.count('b'), r.count('c')]).toEqual([4, 3, 1, 0]);
    expect(r.keys().sort()).toEqual(['a', 'b']);
    r.forget('a');
    r.report('a', 'again');
    expect(said).toEqual(['a: bad JSON', 'b: wrong version', 'a: again']);
    expect(r.total).toBe(5);
  });
});
