/**
 * `ovnetd attach / detach / endpoints`: ask the local agent, over its control socket, to attach
 * a network namespace (or a container's process) to a network, detach it, or list endpoints.
 * The agent does the work because it owns the bridge, and in a cluster it claims the address
 * in the store.
 */
import type { Argv, CommandModule } from 'yargs';
import { OvnError } from '../../lib/errors.js';
import { callAgent } from '../../daemon/control-socket.js';
import { CONFIG_DEFAULTS } from '../../daemon/config.js';
import type { AttachResult, EndpointRow } from '../../daemon/endpoints.js';
import { printJson, printTable } from '../output.js';

/** Attaching runs a dozen `ip` commands and may wait behind other attaches on the same agent. */
const ATTACH_TIMEOUT_MS = 60_000;

interface Common { 'control-socket': string; json: boolean }
interface TargetArgs extends Common { network: string; netns?: string; pid?: string }
interface AttachArgs extends TargetArgs { name?: string; ip?: string; ifname: string }

function common<T>(y: Argv<T>) {
  return y
    .option('control-socket', { type: 'string', default: CONFIG_DEFAULTS.controlSocket, describe: 'Agent control socket' })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' });
}

function target<T>(y: Argv<T>) {
  return common(y)
    .positional('network', { type: 'string', demandOption: true, describe: 'Network name' })
    .option('netns', { type: 'string', describe: 'A named network namespace (ip netns add NAME)' })
    // Text, so that "12x" is refused by name instead of becoming NaN.
    .option('pid', { type: 'string', describe: "A process whose network namespace to use (e.g. a container's)" });
}

function targetParams(a: TargetArgs): { network: string; netns?: string; pid?: string } {
  if ((a.netns === undefined) === (a.pid === undefined)) throw new OvnError('OVN_ERR_USAGE', 'give exactly one of --netns NAME or --pid PID');
  return { network: a.network, ...(a.netns !== undefined ? { netns: a.netns } : { pid: a.pid }) };
}

function where(r: EndpointRow): string {
  if (!r.local) return '';
  return r.namespace !== undefined ? `netns ${r.namespace}` : `pid ${r.pid}`;
}

export const attachCommand: CommandModule<object, AttachArgs> = {
  command: 'attach <network>',
  describe: 'Attach a network namespace or a process to a network (veth, address, MAC, MTU)',
  builder: (y) => target(y)
    .option('name', { type: 'string', describe: 'Name the other endpoints resolve (default: the namespace name)' })
    .option('ip', { type: 'string', describe: 'Address to take (default: the lowest free one in the subnet)' })
    .option('ifname', { type: 'string', default: 'eth0', describe: 'Interface name inside the namespace' }),
  handler: async (a) => {
    const params = { ...targetParams(a), name: a.name, ip: a.ip, ifname: a.ifname };
    const r = (await callAgent(a['control-socket'], 'attach', params, ATTACH_TIMEOUT_MS)) as AttachResult;
    if (a.json) return printJson(r);
    const name = r.name ? ` as "${r.name}"` : '';
    process.stdout.write(`attached ${where(r)}${name} to ${r.network}: ${r.ip}/${r.prefix} mac ${r.mac} on ${r.ifname}\n`);
  },
};

export const detachCommand: CommandModule<object, TargetArgs> = {
  command: 'detach <network>',
  describe: 'Detach a network namespace or a process from a network (removes the veth, frees the address)',
  builder: (y) => target(y),
  handler: async (a) => {
    const rows = (await callAgent(a['control-socket'], 'detach', targetParams(a), ATTACH_TIMEOUT_MS)) as EndpointRow[];
    if (a.json) return printJson(rows);
    for (const r of rows) process.stdout.write(`detached ${where(r)} from ${r.network} (${r.ip} freed)\n`);
  },
};

export const endpointsCommand: CommandModule<object, Common & { network?: string }> = {
  command: 'endpoints [network]',
  describe: 'List endpoints (all hosts in a cluster; this host only without a store)',
  builder: (y) => common(y).positional('network', { type: 'string', describe: 'Only this network' }),
  handler: async (a) => {
    const rows = (await callAgent(a['control-socket'], 'endpoints', a.network === undefined ? {} : { network: a.network })) as EndpointRow[];
    if (a.json) return printJson(rows);
    printTable(['NETWORK', 'IP', 'MAC', 'NAME', 'HOST', 'LOCAL'], rows.map((r) => [r.network, r.ip, r.mac, r.name ?? '', r.host, where(r)]));
  },
};
