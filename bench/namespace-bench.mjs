// The namespace benchmark: the same two-host topology carried once by ovnetd and once by the
// Linux kernel's VXLAN, measured in one run so the ratio survives a noisy shared machine.
//
//   e1 --veth-- [h1: ovbr-42 + (ovtap-42 & agent | vx42)] --u0-- sw0 --u0-- [h2 ...] --veth-- e2
//   10.77.0.1                                    192.168.77.1   192.168.77.2            10.77.0.2
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Topology } from '../dist/lab/topology.js';
import { startAgent } from '../dist/lab/agent-process.js';

const VNI = 42;
const OVERLAY_MTU = 1450;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid) {
  if (pid) {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks
  }
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = v.map(Number);
  return n.reduce((a, b) => a + b, 0) - n[3] - n[4]; // all but idle and iowait
}
const TICK_HZ = 100;

/** The bridge ovbr-VNI on host h with `port` in it, both at the overlay MTU. */
function bridge(topo, h, port) {
  topo.exec(h.ns, ['ip', 'link', 'add', `ovbr-${VNI}`, 'type', 'bridge']);
  topo.exec(h.ns, ['ip', 'link', 'set', port, 'master', `ovbr-${VNI}`, 'mtu', String(OVERLAY_MTU), 'up']);
  topo.exec(h.ns, ['ip', 'link', 'set', `ovbr-${VNI}`, 'mtu', String(OVERLAY_MTU), 'up']);
}

export async function buildKernel(topo) {
  for (const h of topo.hosts) {
    const peer = topo.hosts.find((o) => o !== h);
    topo.exec(h.ns, ['ip', 'link', 'add', `vx${VNI}`, 'type', 'vxlan', 'id', String(VNI), 'dstport', '4789', 'local', h.underlayIp, 'dev', 'u0']);
    bridge(topo, h, `vx${VNI}`);
    topo.exec(h.ns, ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', `vx${VNI}`, 'dst', peer.underlayIp]);
  }
  return { pid: undefined };
}

export async function buildOvnetd(topo, dir, extraArgs = [], env = {}) {
  const agents = [];
  for (const h of topo.hosts) {
    const peers = topo.hosts.filter((o) => o !== h).map((o) => o.underlayIp);
    agents.push(await startAgent(topo, h.index, {
      dir: join(dir, `h${h.index}`),
      config: { advertise: h.underlayIp, networks: [{ name: 'bench', vni: VNI, subnet: '10.77.0.0/24', mtu: OVERLAY_MTU }], peers, logLevel: 'warn' },
      args: extraArgs,
      env,
    }));
  }
  return { pid: agents[0].child.pid, agents };
}

const FLOOR_C = new URL('./floor-relay.c', import.meta.url).pathname;
const FLOOR_NODE = new URL('./node-relay.mjs', import.meta.url).pathname;

/** A reference relay (floor-relay.c or node-relay.mjs) per host in place of the agent. */
export async function buildRelay(topo, dir, kind) {
  let argv0;
  if (kind === 'c-relay') {
    argv0 = [join(dir, 'floor-relay')];
    execFileSync('cc', ['-O2', '-o', argv0[0], FLOOR_C]);
  } else {
    argv0 = [process.execPath, FLOOR_NODE];
  }
  for (const h of topo.hosts) {
    const peer = topo.hosts.find((o) => o !== h);
    const child = topo.spawn(h.ns, [...argv0, `ovtap-${VNI}`, h.underlayIp, peer.underlayIp, String(VNI)]);
    await new Promise((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d) => { err += d; if (err.includes('ready\n')) resolve(); });
      child.once('exit', () => reject(new Error(`${kind} exited: ${err}`)));
    });
    bridge(topo, h, `ovtap-${VNI}`);
  }
  return { pid: undefined };
}

function iperf(topo, client, server, args, seconds) {
  const srv = topo.spawn(server.ns, ['iperf3', '-s', '-1', '-p', '5201']);
  return sleep(300).then(() => {
    try {
      const out = topo.exec(client.ns, ['iperf3', '-c', server.ip, '-p', '5201', '-t', String(seconds), '-J', ...args], (seconds + 20) * 1000);
      return JSON.parse(out);
    } finally {
      if (srv.exitCode === null) srv.kill('SIGKILL');
    }
  });
}

function pingRtts(topo, from, to, count) {
  const out = topo.exec(from.ns, ['ping', '-c', String(count), '-i', '0.01', '-W', '1', to.ip], 60_000);
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (rtts.length === 0) throw new Error(`no ping replies:\n${out}`);
  return rtts;
}

function summary(rtts) {
  const s = [...rtts].sort((a, b) => a - b);
  return { pingAvg: s.reduce((a, b) => a + b, 0) / s.length, pingP99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] };
}

/** Throughput and CPU over an opened carrier (see openCarrier). */
export async function measureThroughput({ topo, carrier }, seconds) {
  const [e1, e2] = topo.endpoints;
  const res = {};
  const a0 = cpuTicks(carrier.pid), s0 = cpuTicks();
  const t1 = await iperf(topo, e1, e2, [], seconds);
  const a1 = cpuTicks(carrier.pid), s1 = cpuTicks();
  res.tcp1 = t1.end.sum_received.bits_per_second / 1e9;
  res.agentCpu = carrier.pid ? (a1 - a0) / TICK_HZ / seconds : NaN;
  res.sysCpuPerGbit = ((s1 - s0) / TICK_HZ / seconds) / Math.max(res.tcp1, 1e-6);
  res.tcp4 = (await iperf(topo, e1, e2, ['-P', '4'], seconds)).end.sum_received.bits_per_second / 1e9;
  const u = await iperf(topo, e1, e2, ['-u', '-b', '0', '-l', '64'], seconds);
  const sum = u.end.sum;
  res.udp64pps = (sum.packets - sum.lost_packets) / sum.seconds;
  return res;
}

/**
 * Ping RTT of several opened carriers, in rounds that take turns, so that a burst of noise on
 * the shared machine falls on all of them alike rather than on whichever ran at that moment.
 * Returns { pingAvg, pingP99 } (ms) per carrier, over rounds x perRound pings.
 */
export function pingInterleaved(opened, rounds = 10, perRound = 30) {
  const rtts = opened.map(() => []);
  for (let r = 0; r < rounds; r++) {
    opened.forEach(({ topo }, i) => rtts[i].push(...pingRtts(topo, topo.endpoints[0], topo.endpoints[1], perRound)));
  }
  return rtts.map(summary);
}

const open = new Set();
process.once('SIGINT', () => { for (const o of open) o.close(); process.exit(130); });

/**
 * Builds one carrier in a topology of its own with an endpoint on each host, warmed up.
 * kind: 'kernel', 'ovnetd' (`extraArgs`: agent flags; `env`: agent environment, e.g.
 * OVNETD_WORKERS), or the reference relays 'c-relay' and 'node-relay'. close() removes it all.
 */
export async function openCarrier(kind, extraArgs = [], env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ovnetd-bench-'));
  const topo = new Topology(`ovb${randomBytes(2).toString('hex')}`, { hosts: 2 }).create();
  const opened = { kind, topo, carrier: undefined, close: () => { open.delete(opened); topo.destroy(); rmSync(dir, { recursive: true, force: true }); } };
  open.add(opened);
  try {
    opened.carrier = kind === 'kernel' ? await buildKernel(topo)
      : kind === 'c-relay' || kind === 'node-relay' ? await buildRelay(topo, dir, kind) : await buildOvnetd(topo, dir, extraArgs, env);
    topo.addEndpoint(1, VNI, '10.77.0.1', 24, { mtu: OVERLAY_MTU });
    topo.addEndpoint(2, VNI, '10.77.0.2', 24, { mtu: OVERLAY_MTU });
    await sleep(500);
    pingRtts(topo, topo.endpoints[0], topo.endpoints[1], 5); // ARP and the forwarding table
    return opened;
  } catch (e) {
    opened.close();
    throw e;
  }
}

/** One carrier measured on its own: throughput, CPU and 300 pings. */
export async function runCarrier(kind, seconds, extraArgs = [], env = {}) {
  const opened = await openCarrier(kind, extraArgs, env);
  try {
    const res = await measureThroughput(opened, seconds);
    return { ...res, ...pingInterleaved([opened], 1, 300)[0] };
  } finally {
    opened.close();
  }
}
