/** `ovnetd doctor`: the store's view vs this host's devices vs the agent; non-zero on any difference. */
import type { CommandModule } from 'yargs';
import { callAgent } from '../../daemon/control-socket.js';
import { CONFIG_DEFAULTS } from '../../daemon/config.js';
import { diagnose, type DoctorViews } from '../../daemon/doctor.js';
import type { AgentStatus, FdbRow, PeerRow } from '../../daemon/agent-api.js';
import { listLinks } from '../../host/links.js';
import { KeyLayout } from '../../control/keys.js';
import { CorruptionReporter, decodeEndpoint, decodeHost, decodeNetwork, type EndpointDoc, type HostDoc, type NetworkDoc } from '../../control/documents.js';
import { printJson } from '../output.js';

interface Args { 'control-socket': string; store?: string; 'store-token'?: string; 'store-prefix': string; json: boolean }

async function storeView(url: string, token: string | undefined, prefix: string): Promise<NonNullable<DoctorViews['store']> & { corrupt: number }> {
  const { openStore } = await import('../../control/store/store-url.js');
  const store = await openStore(url, { token });
  try {
    const keys = new KeyLayout(prefix);
    const { entries } = await store.list(keys.root);
    const reporter = new CorruptionReporter(() => undefined);
    const networks: NetworkDoc[] = [], hosts: HostDoc[] = [], endpoints: EndpointDoc[] = [];
    for (const e of entries) {
      const d = keys.parseNetworkKey(e.key) !== undefined ? decodeNetwork(keys, e.key, e.value)
        : keys.parseHostKey(e.key) !== undefined ? decodeHost(keys, e.key, e.value)
          : keys.parseEndpointKey(e.key) !== undefined ? decodeEndpoint(keys, e.key, e.value) : undefined;
      if (!d) continue;
      if (!d.ok) { reporter.report(e.key, d.reason); continue; }
      const v = d.value;
      if ('subnet' in v) networks.push(v); else if ('address' in v) hosts.push(v); else endpoints.push(v);
    }
    return { networks, hosts, endpoints, corrupt: reporter.total };
  } finally {
    await store.close();
  }
}

export const doctorCommand: CommandModule<object, Args> = {
  command: 'doctor',
  describe: "Compare the store's view with this host's devices, peers and forwarding table",
  builder: (y) => y
    .option('control-socket', { type: 'string', default: CONFIG_DEFAULTS.controlSocket })
    .option('store', { type: 'string', describe: "Store URL (default: the agent's)" })
    .option('store-token', { type: 'string' })
    .option('store-prefix', { type: 'string', default: CONFIG_DEFAULTS.storePrefix })
    .option('json', { type: 'boolean', default: false }),
  handler: async (a) => {
    const sock = a['control-socket'];
    const status = (await callAgent(sock, 'status')) as AgentStatus;
    const [peers, fdb] = [(await callAgent(sock, 'peers')) as PeerRow[], (await callAgent(sock, 'fdb')) as FdbRow[]];
    const url = a.store ?? status.store.url;
    const sv = url ? await storeView(url, a['store-token'] ?? (process.env.CONSUL_HTTP_TOKEN || undefined), a['store-prefix']) : undefined;
    const findings = diagnose({ store: sv, links: await listLinks(), agent: { status, peers, fdb } });
    if (sv?.corrupt) findings.push({ kind: 'corrupt-entries', message: `${sv.corrupt} corrupted store entries skipped` });
    if (a.json) printJson({ ok: findings.length === 0, findings });
    else if (!findings.length) {
      process.stdout.write(`ok: ${status.networks.length} networks, ${peers.length} peers, ${fdb.length} forwarding entries agree${sv ? ' with the store' : ''}\n`);
    } else for (const f of findings) process.stdout.write(`DIFF ${f.kind}: ${f.message}\n`);
    if (findings.length) process.exitCode = 1;
  },
};
