/**
 * openStore(url): the one way the rest of ovnetd gets a KvStore. The URL scheme picks the
 * backend: consul:// and consuls:// (Consul HTTP API; also the embedded store), etcd:// and
 * etcds:// (etcd v3). Bad URLs fail with OVN_ERR_CONFIG and say what was expected.
 */
import { readFileSync } from 'node:fs';
import { systemClock, type Clock } from '../../lib/clock.js';
import { OvnError } from '../../lib/errors.js';
import type { KvStore } from './kv-store.js';
import { withKeyPrefix } from './key-prefix.js';

export interface StoreOptions {
  /** Consul ACL token; defaults to $CONSUL_HTTP_TOKEN. */
  token?: string;
  /** PEM CA bundle for consuls:// and etcds://. */
  caFile?: string;
  /** Prepended to every key, e.g. "ovnetd/"; keys seen by callers stay unprefixed. */
  prefix?: string;
  clock?: Clock;
  /** Consul blocking-query wait (default 60 s). */
  watchWaitSeconds?: number;
  /** Timeout of ordinary requests (default 10 s). */
  requestTimeoutMs?: number;
}

export type StoreKind = 'consul' | 'etcd';

export interface ParsedStoreUrl {
  kind: StoreKind;
  secure: boolean;
  host: string;
  port: number;
}

const SCHEMES: Record<string, { kind: StoreKind; secure: boolean; port: number }> = {
  'consul:': { kind: 'consul', secure: false, port: 8500 },
  'consuls:': { kind: 'consul', secure: true, port: 8501 },
  'etcd:': { kind: 'etcd', secure: false, port: 2379 },
  'etcds:': { kind: 'etcd', secure: true, port: 2379 },
};

const EXPECTED = 'expected consul://HOST[:PORT], consuls://HOST[:PORT], etcd://HOST[:PORT] or etcds://HOST[:PORT]';

function bad(url: string, why: string): OvnError {
  return new OvnError('OVN_ERR_CONFIG', `invalid store URL ${JSON.stringify(url)}: ${why}; ${EXPECTED}`);
}

export function parseStoreUrl(url: string): ParsedStoreUrl {
  if (typeof url !== 'string' || url.trim() === '') throw bad(String(url), 'empty');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad(url, 'not a URL');
  }
  const scheme = SCHEMES[u.protocol];
  if (!scheme) throw bad(url, `unknown scheme ${JSON.stringify(u.protocol.replace(/:$/, ''))}`);
  if (!u.hostname) throw bad(url, 'missing host');
  if (u.username || u.password) throw bad(url, 'credentials do not belong in the URL (use the token option)');
  if ((u.pathname !== '' && u.pathname !== '/') || u.search || u.hash) throw bad(url, 'unexpected path, query or fragment');
  const port = u.port === '' ? scheme.port : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(url, `bad port ${JSON.stringify(u.port)}`);
  return { kind: scheme.kind, secure: scheme.secure, host: u.hostname, port };
}

function readCa(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new OvnError('OVN_ERR_CONFIG', `cannot read CA file ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export async function openStore(url: string, opts: StoreOptions = {}): Promise<KvStore> {
  const p = parseStoreUrl(url);
  if (opts.caFile !== undefined && !p.secure) throw new OvnError('OVN_ERR_CONFIG', `caFile given but ${url} is not a TLS URL (use consuls:// or etcds://)`);
  const ca = readCa(opts.caFile);
  const clock = opts.clock ?? systemClock;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const prefix = opts.prefix ?? '';
  if (prefix.includes('\0')) throw new OvnError('OVN_ERR_CONFIG', 'store key prefix must not contain NUL');
  // Each backend's client is loaded only when used: etcd3 pulls in gRPC, which costs a few
  // hundred milliseconds of start-up that a Consul user (and a restarting agent) should not pay.
  const store: KvStore = p.kind === 'consul'
    ? new (await import('./consul-store.js')).ConsulStore({
      host: p.host, port: p.port, secure: p.secure, ca, clock, requestTimeoutMs,
      token: opts.token ?? (process.env.CONSUL_HTTP_TOKEN || undefined),
      watchWaitSeconds: opts.watchWaitSeconds ?? 60,
    })
    : new (await import('./etcd-store.js')).EtcdStore({ host: p.host, port: p.port, secure: p.secure, ca, clock, requestTimeoutMs });
  return withKeyPrefix(store, prefix);
}
