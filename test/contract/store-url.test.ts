/** openStore/parseStoreUrl: backend selection by URL, and clear OVN_ERR_CONFIG for bad input. */
import { describe, expect, it } from 'vitest';
import { openStore, parseStoreUrl } from '../../src/control/store/store-url.js';

describe('parseStoreUrl', () => {
  it('picks the backend, TLS and default port from the scheme', () => {
    expect(parseStoreUrl('consul://127.0.0.1:8500')).toEqual({ kind: 'consul', secure: false, host: '127.0.0.1', port: 8500 });
    expect(parseStoreUrl('consul://store.example')).toEqual({ kind: 'consul', secure: false, host: 'store.example', port: 8500 });
    expect(parseStoreUrl('consuls://store.example')).toEqual({ kind: 'consul', secure: true, host: 'store.example', port: 8501 });
    expect(parseStoreUrl('etcd://10.0.0.1:23790/')).toEqual({ kind: 'etcd', secure: false, host: '10.0.0.1', port: 23790 });
    expect(parseStoreUrl('etcds://[::1]:2379')).toEqual({ kind: 'etcd', secure: true, host: '[::1]', port: 2379 });
  });

  it.each([
    ['', /empty/],
    ['127.0.0.1:8500', /unknown scheme|not a URL/],
    ['http://127.0.0.1:8500', /unknown scheme "http"/],
    ['redis://h:1', /unknown scheme "redis"/],
    ['consul://', /missing host|not a URL/],
    ['consul://h:0', /bad port/],
    ['consul://h:99999', /not a URL|bad port/],
    ['consul://h:8500/v1/kv', /unexpected path/],
    ['consul://h:8500?token=x', /unexpected path, query/],
    ['consul://user:pw@h:8500', /credentials/],
  ])('rejects %j with OVN_ERR_CONFIG', (url, why) => {
    let err: unknown;
    try { parseStoreUrl(url); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'OVN_ERR_CONFIG' });
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toMatch(/expected consul:\/\//);
  });
});

describe('openStore', () => {
  it('rejects a CA file for a plain-text URL and a missing CA file', async () => {
    await expect(openStore('consul://127.0.0.1:1', { caFile: '/etc/hostname' })).rejects.toMatchObject({ code: 'OVN_ERR_CONFIG' });
    await expect(openStore('consuls://127.0.0.1:1', { caFile: '/nonexistent/ca.pem' })).rejects.toMatchObject({ code: 'OVN_ERR_CONFIG' });
  });

  it('returns a store named by its URL', async () => {
    const s = await openStore('consul://127.0.0.1:1');
    expect(s.url).toBe('consul://127.0.0.1:1');
    await s.close();
    const e = await openStore('etcd://127.0.0.1:1');
    expect(e.url).toBe('etcd://127.0.0.1:1');
    await e.close();
  });
});
