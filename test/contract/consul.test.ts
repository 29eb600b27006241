/**
 * The store contract against a real Consul agent, only when CONSUL_HTTP_ADDR is set
 * (host:port, http://host:port or https://host:port; CONSUL_HTTP_TOKEN and CONSUL_CACERT are
 * honoured). Consul's minimum session TTL is 10 s and it may expire sessions up to 2x TTL
 * late, so the registration tests are slow here. Keys live under random "contract-*" prefixes
 * and are deleted afterwards.
 */
import { describe, it } from 'vitest';
import { openStore } from '../../src/control/store/store-url.js';
import { describeStoreContract } from './store-contract.js';

const addr = process.env.CONSUL_HTTP_ADDR;

function storeUrl(a: string): string {
  const m = /^(https?):\/\/(.+?)\/?$/.exec(a);
  if (!m) return `consul://${a}`;
  return `${m[1] === 'https' ? 'consuls' : 'consul'}://${m[2]}`;
}

if (!addr) {
  console.warn('[consul contract] SKIPPED: CONSUL_HTTP_ADDR is not set');
  describe.skip('KvStore contract: real Consul — SKIPPED: set CONSUL_HTTP_ADDR to run it', () => {
    it('runs the contract against Consul', () => {});
  });
} else {
  const url = storeUrl(addr);
  describeStoreContract(`consul (${url})`, () => openStore(url, {
    caFile: url.startsWith('consuls:') ? process.env.CONSUL_CACERT : undefined,
    watchWaitSeconds: 10,
  }), { ttlSeconds: 10, expiryFactor: 2 });
}
