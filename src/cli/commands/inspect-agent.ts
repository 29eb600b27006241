/** Commands that ask the local agent over its control socket: status, peers, fdb. */
import type { CommandModule } from 'yargs';
import { callAgent } from '../../daemon/control-socket.js';
import { CONFIG_DEFAULTS } from '../../daemon/config.js';
import { printJson, printTable } from '../output.js';
import { DROP_COUNTER_NAMES } from '../../daemon/agent-api.js';
import type { AgentStatus, FdbRow, PeerRow } from '../../daemon/agent-api.js';

interface Common { 'control-socket': string; json: boolean }

function common<T>(y: import('yargs').Argv<T>) {
  return y
    .option('control-socket', { type: 'string', default: CONFIG_DEFAULTS.controlSocket, describe: 'Agent control socket' })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' });
}

export const statusCommand: CommandModule<object, Common> = {
  command: 'status',
  describe: 'Show the local agent: version, networks, store health, counters',
  builder: (y) => common(y),
  handler: async (a) => {
    const s = (await callAgent(a['control-socket'], 'status')) as AgentStatus;
    if (a.json) return printJson(s);
    process.stdout.write(`ovnetd ${s.version}  pid ${s.pid}  up ${Math.round(s.uptimeSeconds)}s  underlay ${s.underlay.address}:${s.underlay.port}\n`);
    process.stdout.write(`store: ${s.store.url ?? 'none (static peers)'}  health: ${s.store.health}${s.store.since ? ` since ${s.store.since}` : ''}\n`);
    process.stdout.write(`fdb: ${s.fdb.size}/${s.fdb.capacity} entries  peers: ${s.peers}\n\n`);
    printTable(['NETWORK', 'VNI', 'BRIDGE', 'TAP', 'MTU', 'RX FRAMES', 'TX FRAMES', 'FLOODED'],
      s.networks.map((n) => [n.name, n.vni, n.bridge, n.tap, n.mtu, n.counters.rx_frames ?? 0, n.counters.tx_frames ?? 0, n.counters.flooded_frames ?? 0]));
    const drops = Object.entries(s.counters).filter(([k, v]) => DROP_COUNTER_NAMES.includes(k) && v > 0);
    if (drops.length) process.stdout.write(`\ndrops: ${drops.map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  },
};

export const peersCommand: CommandModule<object, Common> = {
  command: 'peers',
  describe: 'List the peers the local agent forwards to',
  builder: (y) => common(y),
  handler: async (a) => {
    const peers = (await callAgent(a['control-socket'], 'peers')) as PeerRow[];
    if (a.json) return printJson(peers);
    printTable(['ID', 'ADDRESS', 'PORT', 'VNIS'], peers.map((p) => [p.id, p.address, p.port, p.vnis.join(',')]));
  },
};

export const fdbCommand: CommandModule<object, Common & { network?: string }> = {
  command: 'fdb',
  describe: 'Show the forwarding table (MAC -> peer)',
  builder: (y) => common(y).option('network', { type: 'string', describe: 'Only this network (name)' }),
  handler: async (a) => {
    const rows = (await callAgent(a['control-socket'], 'fdb', { network: a.network })) as FdbRow[];
    if (a.json) return printJson(rows);
    printTable(['MAC', 'VNI', 'PEER', 'DST', 'FLAGS', 'AGE'], rows.map((r) => [r.mac, r.vni, r.peer, r.dst, r.flags.join(','), r.age]));
  },
};
