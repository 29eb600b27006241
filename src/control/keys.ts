/**
 * The key layout of the cluster store (docs/key-layout.md). Every key lives under
 * `<prefix>v1/`; the version segment lets a future layout live beside this one during an
 * upgrade instead of reinterpreting old keys.
 *
 *   <prefix>v1/networks/<name>             NetworkDoc
 *   <prefix>v1/hosts/<hostId>              HostDoc (ephemeral: bound to the agent's TTL registration)
 *   <prefix>v1/endpoints/<network>/<ip>    EndpointDoc (create-only CAS on this key = IP uniqueness)
 *   <prefix>v1/locks/networks              lock serialising network creation
 *
 * Parsers return undefined for any key that is not exactly one of ours, so readers can report
 * and skip foreign or mangled keys instead of guessing.
 */
import { OvnError } from '../lib/errors.js';
import { parseIp } from '../lib/ip.js';

export const DEFAULT_PREFIX = 'ovnetd/';
export const LAYOUT_VERSION = 'v1';

/** Same rule as the agent configuration (daemon/config.ts); control/ may not import daemon/. */
export const NETWORK_NAME_RE = /^[a-z0-9-]{1,32}$/;
/** Host ids are chosen by agents (hostname-like); no '/' so they stay one key segment. */
export const HOST_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface EndpointKeyParts {
  network: string;
  /** Canonical IP text (parseIp().address). */
  ip: string;
}

/**
 * Accepts "", "ovnetd" or "ovnetd/" (a trailing '/' is added). Refuses a leading '/', empty
 * segments and characters that would need escaping in some backend's key space.
 */
export function normalizePrefix(prefix: string): string {
  if (prefix === '') return '';
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (p.startsWith('/') || p.includes('//') || !/^[A-Za-z0-9._/-]+$/.test(p) || p.split('/').some((s) => s === '.' || s === '..')) {
    throw new OvnError('OVN_ERR_INVALID', `store prefix ${JSON.stringify(prefix)} is not valid (use letters, digits, ".", "_", "-" and "/" separators, e.g. "ovnetd/")`);
  }
  return p;
}

export class KeyLayout {
  readonly prefix: string;
  readonly root: string;

  constructor(prefix: string = DEFAULT_PREFIX) {
    this.prefix = normalizePrefix(prefix);
    this.root = `${this.prefix}${LAYOUT_VERSION}/`;
  }

  get networksPrefix(): string {
    return `${this.root}networks/`;
  }

  get hostsPrefix(): string {
    return `${this.root}hosts/`;
  }

  get allEndpointsPrefix(): string {
    return `${this.root}endpoints/`;
  }

  get networksLock(): string {
    return `${this.root}locks/networks`;
  }

  network(name: string): string {
    checkName(name);
    return this.networksPrefix + name;
  }

  host(id: string): string {
    if (!HOST_ID_RE.test(id)) throw new OvnError('OVN_ERR_INVALID', `host id ${JSON.stringify(id)} must match ${HOST_ID_RE.source}`);
    return this.hostsPrefix + id;
  }

  /** Prefix of one network's endpoints; the trailing '/' keeps "blue" from matching "blue2". */
  endpointsPrefix(network: string): string {
    checkName(network);
    return `${this.allEndpointsPrefix}${network}/`;
  }

  /** The IP is canonicalised so two spellings of one address can never both be claimed. */
  endpoint(network: string, ip: string): string {
    const parsed = parseIp(ip);
    if (!parsed) throw new OvnError('OVN_ERR_INVALID', `${JSON.stringify(ip)} is not an IP address`);
    return this.endpointsPrefix(network) + parsed.address;
  }

  parseNetworkKey(key: string): string | undefined {
    const rest = strip(key, this.networksPrefix);
    return rest !== undefined && NETWORK_NAME_RE.test(rest) ? rest : undefined;
  }

  parseHostKey(key: string): string | undefined {
    const rest = strip(key, this.hostsPrefix);
    return rest !== undefined && HOST_ID_RE.test(rest) ? rest : undefined;
  }

  parseEndpointKey(key: string): EndpointKeyParts | undefined {
    const rest = strip(key, this.allEndpointsPrefix);
    if (rest === undefined) return undefined;
    const slash = rest.indexOf('/');
    if (slash < 0) return undefined;
    const network = rest.slice(0, slash);
    const ipText = rest.slice(slash + 1);
    if (!NETWORK_NAME_RE.test(network)) return undefined;
    const ip = parseIp(ipText);
    // A non-canonical spelling would dodge the create-only CAS that makes IPs unique.
    if (!ip || ip.address !== ipText) return undefined;
    return { network, ip: ip.address };
  }
}

function strip(key: string, prefix: string): string | undefined {
  return typeof key === 'string' && key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
}

function checkName(name: string): void {
  if (!NETWORK_NAME_RE.test(name)) {
    throw new OvnError('OVN_ERR_INVALID', `network name ${JSON.stringify(name)} is not valid (use 1-32 of a-z, 0-9 and "-")`);
  }
}
