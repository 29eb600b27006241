/**
 * Agent configuration: a JSON file, overridden by flags, validated completely before anything
 * is created. Every problem is reported as one line naming the field (OVN_ERR_CONFIG).
 */
import { readFileSync } from 'node:fs';
import { OvnError } from '../lib/errors.js';
import { parseIp, parseSubnet, subnetsOverlap, type ParsedSubnet } from '../lib/ip.js';
import { LOG_LEVELS } from '../lib/log.js';
import { NETWORK_NAME_RE } from '../control/keys.js';
import { MAX_VNI } from '../control/documents.js';

export { NETWORK_NAME_RE, MAX_VNI };

export interface NetworkConfig {
  name: string;
  vni: number;
  subnet?: string;
  /** Overlay MTU; default underlay MTU - 50 (IPv4) or - 70 (IPv6). */
  mtu?: number;
}

export interface PeerConfig {
  address: string;
  port: number;
}

export interface AgentConfig {
  advertise?: string;
  advertiseInterface?: string;
  /** Local address the underlay socket binds to; default: the advertise address. */
  listen?: string;
  port: number;
  networks: NetworkConfig[];
  peers: PeerConfig[];
  store?: string;
  storeToken?: string;
  storePrefix: string;
  stateDir: string;
  controlSocket: string;
  logLevel: string;
  fdbCapacity: number;
  fdbAgeSeconds: number;
  /** Source-port sockets for the RFC 7348 flow-hash source port; 0 sends from the listening port. */
  sourcePorts: number;
  registrationTtlSeconds: number;
  metrics: string;
  /** Seconds a host's endpoints outlive its registration before other agents reclaim them. */
  endpointGraceSeconds: number;
  /** TAP and UDP segmentation offloads (TSO super-frames, UDP GSO/GRO); false: one frame per datagram. */
  offload: boolean;
}

export const CONFIG_DEFAULTS = {
  port: 4789,
  stateDir: '/var/lib/ovnetd',
  controlSocket: '/run/ovnetd/ovnetd.sock',
  logLevel: 'info',
  fdbCapacity: 65_536,
  fdbAgeSeconds: 300,
  sourcePorts: 8,
  storePrefix: 'ovnetd/',
  registrationTtlSeconds: 15,
  metrics: '127.0.0.1:9474',
  endpointGraceSeconds: 60,
  offload: true,
} as const;

const KNOWN_FIELDS = new Set([
  'advertise', 'advertiseInterface', 'listen', 'port', 'networks', 'peers', 'store', 'storeToken', 'storePrefix',
  'stateDir', 'controlSocket', 'logLevel', 'fdbCapacity', 'fdbAgeSeconds', 'sourcePorts', 'registrationTtlSeconds',
  'metrics', 'endpointGraceSeconds', 'offload',
]);


function fail(field: string, problem: string): never {
  throw new OvnError('OVN_ERR_CONFIG', `${field}: ${problem}`);
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OvnError('OVN_ERR_CONFIG', `config file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new OvnError('OVN_ERR_CONFIG', `config file ${path}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OvnError('OVN_ERR_CONFIG', `config file ${path}: must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(field, `must be an integer in ${min}-${max}, got ${show(v)}`);
  }
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(field, `must be true or false, got ${show(v)}`);
  return v;
}

function str(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) fail(field, `must be a non-empty string, got ${show(v)}`);
  return v;
}

function ipField(field: string, v: unknown): string {
  const ip = parseIp(str(field, v));
  if (!ip) fail(field, `not an IP address: ${show(v)}`);
  return ip.address;
}

/** "10.0.0.2", "10.0.0.2:4790", "[fd00::2]:4790" or {address, port}. */
export function parsePeer(field: string, v: unknown, defaultPort: number): PeerConfig {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    return { address: ipField(`${field}.address`, o.address), port: o.port === undefined ? defaultPort : int(`${field}.port`, o.port, 1, 65535) };
  }
  const s = str(field, v);
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (m) return { address: ipField(field, m[1]), port: int(field + ' port', Number(m[2]), 1, 65535) };
  return { address: ipField(field, s), port: defaultPort };
}

function parseNetwork(field: string, v: unknown): NetworkConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, `must be an object {name, vni, subnet}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['name', 'vni', 'subnet', 'mtu'].includes(k)) fail(`${field}.${k}`, 'unknown field');
  const name = str(`${field}.name`, o.name);
  if (!NETWORK_NAME_RE.test(name)) fail(`${field}.name`, `must match [a-z0-9-]{1,32}, got ${show(name)}`);
  const net: NetworkConfig = { name, vni: int(`${field}.vni`, o.vni, 1, MAX_VNI) };
  if (o.subnet !== undefined) {
    try {
      net.subnet = parseSubnet(str(`${field}.subnet`, o.subnet)).cidr;
    } catch (e) {
      fail(`${field}.subnet`, (e as Error).message);
    }
  }
  if (o.mtu !== undefined) net.mtu = int(`${field}.mtu`, o.mtu, 576, 65_000);
  return net;
}

function checkUnique(networks: NetworkConfig[]): void {
  const subnets: { i: number; s: ParsedSubnet }[] = [];
  networks.forEach((n, i) => {
    const j = networks.findIndex((m) => m.name === n.name);
    if (j !== i) fail(`networks[${i}].name`, `duplicate of networks[${j}] (${n.name})`);
    const k = networks.findIndex((m) => m.vni === n.vni);
    if (k !== i) fail(`networks[${i}].vni`, `duplicate of networks[${k}] (${n.vni})`);
    if (!n.subnet) return;
    const s = parseSubnet(n.subnet);
    const clash = subnets.find((o) => subnetsOverlap(o.s, s));
    if (clash) fail(`networks[${i}].subnet`, `${n.subnet} overlaps networks[${clash.i}].subnet ${clash.s.cidr}`);
    subnets.push({ i, s });
  });
}

/** Merges file and flags (flags win) and validates everything; throws OVN_ERR_CONFIG. */
export function buildConfig(file: Record<string, unknown>, flags: Record<string, unknown>): AgentConfig {
  for (const k of Object.keys(file)) if (!KNOWN_FIELDS.has(k)) fail(k, 'unknown field');
  const raw: Record<string, unknown> = { ...file };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) raw[k] = v;
  const port = raw.port === undefined ? CONFIG_DEFAULTS.port : int('port', raw.port, 1, 65535);
  const cfg: AgentConfig = {
    port,
    networks: [],
    peers: [],
    storePrefix: raw.storePrefix === undefined ? CONFIG_DEFAULTS.storePrefix : str('storePrefix', raw.storePrefix),
    stateDir: raw.stateDir === undefined ? CONFIG_DEFAULTS.stateDir : str('stateDir', raw.stateDir),
    controlSocket: raw.controlSocket === undefined ? CONFIG_DEFAULTS.controlSocket : str('controlSocket', raw.controlSocket),
    logLevel: raw.logLevel === undefined ? CONFIG_DEFAULTS.logLevel : str('logLevel', raw.logLevel),
    fdbCapacity: raw.fdbCapacity === undefined ? CONFIG_DEFAULTS.fdbCapacity : int('fdbCapacity', raw.fdbCapacity, 16, 1 << 24),
    fdbAgeSeconds: raw.fdbAgeSeconds === undefined ? CONFIG_DEFAULTS.fdbAgeSeconds : int('fdbAgeSeconds', raw.fdbAgeSeconds, 1, 86_400),
    sourcePorts: raw.sourcePorts === undefined ? CONFIG_DEFAULTS.sourcePorts : int('sourcePorts', raw.sourcePorts, 0, 64),
    registrationTtlSeconds: raw.registrationTtlSeconds === undefined ? CONFIG_DEFAULTS.registrationTtlSeconds
      : int('registrationTtlSeconds', raw.registrationTtlSeconds, 2, 3600),
    metrics: raw.metrics === undefined ? CONFIG_DEFAULTS.metrics : str('metrics', raw.metrics),
    endpointGraceSeconds: raw.endpointGraceSeconds === undefined ? CONFIG_DEFAULTS.endpointGraceSeconds
      : int('endpointGraceSeconds', raw.endpointGraceSeconds, 0, 86_400),
    offload: raw.offload === undefined ? CONFIG_DEFAULTS.offload : bool('offload', raw.offload),
  };
  if (!LOG_LEVELS.includes(cfg.logLevel as never)) fail('logLevel', `must be one of ${LOG_LEVELS.join(', ')}, got ${show(cfg.logLevel)}`);
  if (raw.advertise !== undefined) cfg.advertise = ipField('advertise', raw.advertise);
  if (raw.advertiseInterface !== undefined) cfg.advertiseInterface = str('advertiseInterface', raw.advertiseInterface);
  if (cfg.advertise && cfg.advertiseInterface) fail('advertise', 'give advertise or advertiseInterface, not both');
  if (!cfg.advertise && !cfg.advertiseInterface) fail('advertise', 'required (an underlay IP address of this host, or advertiseInterface)');
  if (raw.listen !== undefined) cfg.listen = ipField('listen', raw.listen);
  if (raw.store !== undefined) cfg.store = str('store', raw.store);
  if (raw.storeToken !== undefined) cfg.storeToken = str('storeToken', raw.storeToken);
  const nets = raw.networks ?? [];
  if (!Array.isArray(nets)) fail('networks', 'must be an array');
  cfg.networks = nets.map((n, i) => parseNetwork(`networks[${i}]`, n));
  checkUnique(cfg.networks);
  const peers = raw.peers ?? [];
  if (!Array.isArray(peers)) fail('peers', 'must be an array');
  cfg.peers = peers.map((p, i) => parsePeer(`peers[${i}]`, p, port));
  checkFamilies(cfg);
  parseMetricsAddress(cfg.metrics);
  if (cfg.store && cfg.networks.length) fail('networks', 'not allowed with a store: networks come from the store (ovnetd create)');
  if (cfg.store && cfg.peers.length) fail('peers', 'not allowed with a store: peers find each other through the store');
  return cfg;
}

export function parseMetricsAddress(s: string): { host: string; port: number } | undefined {
  if (s === 'off') return undefined;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !parseIp(m[1]) || !(port >= 1 && port <= 65535)) fail('metrics', `expected ADDRESS:PORT or "off", got ${show(s)}`);
  return { host: m[1], port };
}

function checkFamilies(cfg: AgentConfig): void {
  const fam = cfg.advertise ? parseIp(cfg.advertise)!.family : undefined;
  const listenFam = cfg.listen ? parseIp(cfg.listen)!.family : fam;
  cfg.peers.forEach((p, i) => {
    const pf = parseIp(p.address)!.family;
    if (listenFam !== undefined && pf !== listenFam) fail(`peers[${i}]`, `${p.address} is IPv${pf} but the underlay is IPv${listenFam}`);
    if (cfg.advertise && p.address === cfg.advertise && p.port === cfg.port) fail(`peers[${i}]`, `${p.address} is this host's own advertise address`);
  });
  const seen = new Map<string, number>();
  cfg.peers.forEach((p, i) => {
    if (seen.has(p.address)) fail(`peers[${i}]`, `duplicate of peers[${seen.get(p.address)}] (${p.address}); peers are identified by address`);
    seen.set(p.address, i);
  });
}
