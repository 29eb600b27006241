/**
 * Cluster-wide networks, straight against the store (no agent needed), in the manner of
 * `docker network create --driver overlay --subnet`: create, ls, inspect, rm.
 */
import type { Argv, CommandModule } from 'yargs';
import type { KvStore } from '../../control/store/kv-store.js';
import { DEFAULT_PREFIX } from '../../control/keys.js';
import { CorruptionReporter, type NetworkDoc } from '../../control/documents.js';
import { NetworkRegistry } from '../../control/networks.js';
import { printJson, printTable } from '../output.js';

export const DEFAULT_STORE_URL = 'consul://127.0.0.1:8500';

export type StoreOpener = (url: string, opts: { token?: string; caFile?: string }) => Promise<KvStore>;

interface StoreArgs {
  store: string;
  'store-token'?: string;
  'store-prefix': string;
  json: boolean;
}

interface NameArgs extends StoreArgs {
  name: string;
}

interface CreateArgs extends NameArgs {
  subnet: string;
  vni?: string;
  mtu?: string;
}

interface RmArgs extends NameArgs {
  force: boolean;
}

/** Loaded on first use so that `ovnetd --help` does not pull in the store clients. */
const openDefaultStore: StoreOpener = async (url, opts) => (await import('../../control/store/store-url.js')).openStore(url, opts);

function storeOptions<T>(y: Argv<T>) {
  return y
    .option('store', { type: 'string', default: DEFAULT_STORE_URL, describe: 'Key-value store URL: consul://HOST:PORT, consuls://, etcd://HOST:PORT' })
    // No yargs default: --help must never print a token taken from the environment.
    .option('store-token', { type: 'string', describe: 'Store ACL token (default: $CONSUL_HTTP_TOKEN)' })
    .option('store-prefix', { type: 'string', default: DEFAULT_PREFIX, describe: 'Key prefix shared by the cluster' })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' });
}

function nameArg<T>(y: Argv<T>) {
  return storeOptions(y).positional('name', { type: 'string', demandOption: true, describe: 'Network name (1-32 of a-z, 0-9, "-")' });
}

async function withRegistry<T>(open: StoreOpener, a: StoreArgs, fn: (reg: NetworkRegistry) => Promise<T>): Promise<T> {
  const token = a['store-token'] ?? (process.env.CONSUL_HTTP_TOKEN || undefined);
  const store = await open(a.store, { token });
  try {
    const reporter = new CorruptionReporter((key, reason) => process.stderr.write(`ovnetd: warning: skipping corrupted store entry ${key}: ${reason}\n`));
    return await fn(new NetworkRegistry(store, a['store-prefix'], { reporter }));
  } finally {
    await store.close();
  }
}

/**
 * Integer flags are taken as text so that "12x" reaches the registry's validation as "12x" (and
 * is refused by name) instead of becoming NaN.
 */
function intFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return (/^\d{1,9}$/.test(String(text)) ? Number(text) : text) as number;
}

function describeNetwork(n: NetworkDoc): string {
  return `VNI ${n.vni}, subnet ${n.subnet}${n.mtu === undefined ? '' : `, MTU ${n.mtu}`}`;
}

/** The four commands, over any store opener (tests pass an in-memory store). */
export function networkCommands(open: StoreOpener = openDefaultStore) {
  const create: CommandModule<object, CreateArgs> = {
    command: 'create <name>',
    describe: 'Create a cluster-wide overlay network',
    builder: (y) => nameArg(y)
      .option('subnet', { type: 'string', demandOption: true, describe: 'Subnet CIDR, e.g. 10.77.0.0/24 or fd00:77::/64' })
      .option('vni', { type: 'string', describe: 'VXLAN network id 1-16777215 (default: lowest free from 4096)' })
      .option('mtu', { type: 'string', describe: 'Overlay MTU (default: derived from the underlay on each host)' }),
    handler: (a) => withRegistry(open, a, async (reg) => {
      const doc = await reg.create({ name: a.name, subnet: a.subnet, vni: intFlag(a.vni), mtu: intFlag(a.mtu) });
      if (a.json) return printJson(doc);
      process.stdout.write(`created network "${doc.name}": ${describeNetwork(doc)}\n`);
    }),
  };

  const ls: CommandModule<object, StoreArgs> = {
    command: 'ls',
    aliases: ['list'],
    describe: 'List the cluster-wide networks',
    builder: (y) => storeOptions(y),
    handler: (a) => withRegistry(open, a, async (reg) => {
      const nets = await reg.list();
      if (a.json) return printJson(nets);
      printTable(['NAME', 'VNI', 'SUBNET', 'MTU', 'CREATED'], nets.map((n) => [n.name, n.vni, n.subnet, n.mtu ?? 'auto', n.createdAt]));
    }),
  };

  const inspect: CommandModule<object, NameArgs> = {
    command: 'inspect <name>',
    describe: 'Show one network and its endpoints',
    builder: (y) => nameArg(y),
    handler: (a) => withRegistry(open, a, async (reg) => {
      const doc = await reg.inspect(a.name);
      const endpoints = await reg.listEndpoints(a.name);
      if (a.json) return printJson({ ...doc, endpoints });
      process.stdout.write(`name:      ${doc.name}\nvni:       ${doc.vni}\nsubnet:    ${doc.subnet}\nmtu:       ${doc.mtu ?? 'auto'}\n`
        + `created:   ${doc.createdAt}\nendpoints: ${endpoints.length}\n`);
      if (endpoints.length) {
        process.stdout.write('\n');
        printTable(['IP', 'MAC', 'HOST', 'NAME'], endpoints.map((e) => [e.ip, e.mac, e.host, e.name ?? '']));
      }
    }),
  };

  const rm: CommandModule<object, RmArgs> = {
    command: 'rm <name>',
    aliases: ['remove'],
    describe: 'Remove a network (refused while it has endpoints, unless --force)',
    builder: (y) => nameArg(y)
      .option('force', { type: 'boolean', default: false, describe: 'Also delete its endpoints (agents then detach them)' }),
    handler: (a) => withRegistry(open, a, async (reg) => {
      const r = await reg.remove(a.name, { force: a.force });
      if (a.json) return printJson(r);
      const eps = r.removedEndpoints ? ` and ${r.removedEndpoints} endpoint(s)` : '';
      process.stdout.write(`removed network "${r.name}"${eps}\n`);
    }),
  };

  return { create, ls, inspect, rm };
}

const defaults = networkCommands();
export const networkCreateCommand = defaults.create;
export const networkLsCommand = defaults.ls;
export const networkInspectCommand = defaults.inspect;
export const networkRmCommand = defaults.rm;
