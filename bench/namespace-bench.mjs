// The namespace benchmark: the same two-host topology carried once by ovnetd and once by the
// Linux kernel's VXLAN, measured in one run so the ratio survives a noisy shared machine.
//
//   e1 --veth-- [h1: ovbr-42 + (ovtap-42 & agent | vx42)] --u0-- sw0 --u0-- [h2 ...] --veth-- e2
//   10.77.0.1                                    192.168.77.1   192.168.77.2            10.77.0.2
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export async function buildKernel(topo) {
  for (const h of topo.hosts) {
    const peer = topo.hosts.find((o) => o !== h);
    topo.exec(h.ns, ['ip', 'link', 'add', `vx${VNI}`, 'type', 'vxlan', 'id', String(VNI), 'dstport', '4789', 'local', h.underlayIp, 'dev', 'u0']);
    topo.exec(h.ns, ['ip', 'link', 'add', `ovbr-${VNI}`, 'type', 'bridge']);
    topo.exec(h.ns, ['ip', 'link', 'set', `vx${VNI}`, 'master', `ovbr-${VNI}`, 'mtu', String(OVERLAY_MTU), 'up']);
    topo.exec(h.ns, ['ip', 'link', 'set', `ovbr-${VNI}`, 'mtu', String(OVERLAY_MTU), 'up']);
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

function ping(topo, from, to, count) {
  const out = topo.exec(from.ns, ['ping', '-c', String(count), '-i', '0.01', '-W', '1', to.ip], 60_000);
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  if (rtts.length === 0) throw new Error(`no ping replies:\n${out}`);
  return { avg: rtts.reduce((a, b) => a + b, 0) / rtts.length, p99: rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))], received: rtts.length };
}

/** Runs the measurements over an already-built carrier. */
export async function measure(topo, carrier, seconds) {
  const [e1, e2] = topo.endpoints;
  ping(topo, e1, e2, 5); // warm up ARP and the forwarding table
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
  const p = ping(topo, e1, e2, 300);
  res.pingAvg = p.avg;
  res.pingP99 = p.p99;
  return res;
}

/** `extraArgs`: agent flags; `env`: agent environment (e.g. OVNETD_WORKERS). */
export async function runCarrier(kind, seconds, extraArgs = [], env = {}) {
  const prefix = `ovb${randomBytes(2).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'ovnetd-bench-'));
  const topo = new Topology(prefix, { hosts: 2 }).create();
  const cleanup = () => { topo.destroy(); rmSync(dir, { recursive: true, force: true }); };
  process.once('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    const carrier = kind === 'kernel' ? await buildKernel(topo) : await buildOvnetd(topo, dir, extraArgs, env);
    topo.addEndpoint(1, VNI, '10.77.0.1', 24, { mtu: OVERLAY_MTU });
    topo.addEndpoint(2, VNI, '10.77.0.2', 24, { mtu: OVERLAY_MTU });
    await sleep(500);
    return await measure(topo, carrier, seconds);
  } finally {
    cleanup();
  }
}
