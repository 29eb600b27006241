/** `ovnetd lab up|status|exec|down`: the one-machine lab. */
import type { Argv, CommandModule } from 'yargs';
import { spawnSync } from 'node:child_process';
import { OvnError } from '../../lib/errors.js';
import { LAB_PREFIX, LAB_SUBNET, LAB_VNI, labDown, labNamespaces, labStatus } from '../../lab/lab.js';
import { labUp, type LabReport } from '../../lab/lab-up.js';
import { printJson, printTable } from '../output.js';

function printReport(r: LabReport): void {
  const s = r.state;
  const out = (l = '') => process.stdout.write(`${l}\n`);
  out();
  out(`lab: ${s.hosts} hosts, store ${s.store} at ${s.storeUrl}, network "demo" VNI ${LAB_VNI} ${LAB_SUBNET}`);
  out();
  out(s.endpoints.map((e) => `${e.ns} ${e.ip}`.padEnd(24)).join(''));
  out(s.endpoints.map(() => '    |'.padEnd(24)).join(''));
  out(s.endpoints.map((e) => `${LAB_PREFIX}-h${e.host} 192.168.77.${e.host}`.padEnd(24)).join(''));
  out(s.endpoints.map(() => '    |'.padEnd(24)).join(''));
  out(`${'-'.repeat(24 * s.endpoints.length - 4)}  ${LAB_PREFIX}-sw (underlay switch)`);
  out();
  printTable(['FROM', 'TO', 'RESULT', 'RTT ms'], r.pings.map((p) => [p.from, p.to, p.ok ? 'ok' : 'FAIL', p.rttMs?.toFixed(3) ?? '-']));
  out();
  const t = r.throughput;
  if (t && 'gbps' in t) out(`throughput e1 -> e2: ${t.gbps.toFixed(2)} Gbit/s (${t.tool})`);
  else if (t) out(`throughput: skipped: ${t.skipped}`);
  out();
  out('try:  ovnetd lab exec e1 -- ping ' + (s.endpoints[1]?.ip ?? ''));
  out('      ovnetd lab status');
  out('      ovnetd lab down');
}

const up: CommandModule<object, { hosts: number; store: string; json: boolean }> = {
  command: 'up',
  describe: 'Build a lab: hosts as namespaces, a store, an agent per host, a network, endpoints',
  builder: (y) => y
    .option('hosts', { type: 'number', default: 3, describe: 'Hosts (2-9)' })
    .option('store', { choices: ['embedded', 'etcd'], default: 'embedded', describe: 'Store backend' })
    .option('json', { type: 'boolean', default: false }),
  handler: async (a) => {
    const report = await labUp({ hosts: a.hosts, store: a.store as 'embedded' | 'etcd', progress: (l) => process.stderr.write(`${l}\n`) });
    if (a.json) return printJson(report);
    printReport(report);
    if (report.pings.some((p) => !p.ok)) throw new OvnError('OVN_ERR_INTERNAL', 'some pings failed (see the table; logs in /run/ovnetd-lab)');
  },
};

const status: CommandModule<object, { json: boolean }> = {
  command: 'status',
  describe: 'Show the lab: namespaces, agents, peers, store health',
  builder: (y) => y.option('json', { type: 'boolean', default: false }),
  handler: async (a) => {
    const s = await labStatus();
    if (a.json) return printJson(s);
    if (!s.state && !s.namespaces.length) { process.stdout.write('no lab is up (ovnetd lab up)\n'); return; }
    process.stdout.write(`namespaces: ${s.namespaces.join(' ') || '-'}\nstore: ${s.state?.store ?? '?'} ${s.state?.storeUrl ?? ''}\n\n`);
    printTable(['HOST', 'AGENT', 'STORE', 'PEERS', 'NETWORKS', 'FDB'], s.agents.map((x) => x.status
      ? [`h${x.host}`, `up ${Math.round(x.status.uptimeSeconds)}s`, x.status.store.health, x.status.peers, x.status.networks.map((n) => n.name).join(','), `${x.status.fdb.size}`]
      : [`h${x.host}`, `DOWN (${x.error})`, '-', '-', '-', '-']));
    if (s.state?.endpoints.length) {
      process.stdout.write('\n');
      printTable(['ENDPOINT', 'HOST', 'IP'], s.state.endpoints.map((e) => [e.ns, `h${e.host}`, e.ip]));
    }
  },
};

const exec: CommandModule<object, { name: string; cmd?: string[]; '--'?: string[] }> = {
  command: 'exec <name> [cmd..]',
  describe: 'Run a command in a lab namespace (h1, e2, sw, or a full name): ovnetd lab exec e1 -- ping 10.99.0.12',
  builder: (y: Argv) => y
    .parserConfiguration({ 'populate--': true, 'unknown-options-as-args': true })
    .positional('name', { type: 'string', demandOption: true })
    .positional('cmd', { type: 'string', array: true }) as never,
  handler: (a) => {
    const ns = a.name.startsWith(`${LAB_PREFIX}-`) ? a.name : `${LAB_PREFIX}-${a.name}`;
    if (!labNamespaces().includes(ns)) throw new OvnError('OVN_ERR_NOT_FOUND', `no lab namespace "${ns}" (have: ${labNamespaces().join(' ') || 'none; run ovnetd lab up'})`);
    const given = [...(a.cmd ?? []), ...(a['--'] ?? [])].map(String);
    const cmd = given.length ? given : [process.env.SHELL ?? '/bin/sh'];
    const r = spawnSync('ip', ['netns', 'exec', ns, ...cmd.map(String)], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  },
};

const down: CommandModule = {
  command: 'down',
  describe: 'Remove everything the lab made (safe to run twice)',
  handler: async () => {
    const r = await labDown();
    process.stdout.write(`lab removed: ${r.namespaces.length} namespaces, ${r.processes} processes\n`);
  },
};

export const labCommand: CommandModule = {
  command: 'lab <command>',
  describe: 'A one-machine lab built from network namespaces',
  builder: (y: Argv) => y.command(up).command(status).command(exec).command(down).demandCommand(1),
  handler: () => undefined,
};
