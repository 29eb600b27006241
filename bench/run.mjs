// `npm run bench`: ovnetd against the kernel's VXLAN in the same run, then micro-benchmarks.
// A benchmark, not a test: it prints figures and ratios, it asserts nothing.
import { execFileSync } from 'node:child_process';
import { openCarrier, measureThroughput, pingInterleaved } from './namespace-bench.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);

function check(cmd) {
  try { execFileSync('which', [cmd], { stdio: 'ignore' }); } catch { console.error(`bench: ${cmd} is not installed (apt-get install ${cmd})`); process.exit(1); }
}
if (process.getuid && process.getuid() !== 0) { console.error('bench: needs root (network namespaces)'); process.exit(1); }
['iperf3', 'ping', 'ip'].forEach(check);
// BENCH_FLOORS=0 skips the ping-only reference relays (floor-relay.c needs a C compiler).
const floors = process.env.BENCH_FLOORS === '0' ? [] : ['c-relay', 'node-relay'];
if (floors.length) check('cc');

const rows = [
  ['TCP 1 stream (Gbit/s)', 'tcp1', true],
  ['TCP 4 streams (Gbit/s)', 'tcp4', true],
  ['UDP 64 B (packets/s)', 'udp64pps', true],
  ['ping avg (ms)', 'pingAvg', false],
  ['ping p99 (ms)', 'pingP99', false],
  ['system CPU s per Gbit (TCP 1)', 'sysCpuPerGbit', false],
  ['agent CPU (cores, TCP 1)', 'agentCpu', false],
];

function fmt(v) {
  if (!Number.isFinite(v)) return '-';
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en') : v.toFixed(3);
}

// A variant is "ovnetd" (the defaults: offloads on) or space-separated agent flags and NAME=VALUE
// environment settings, e.g. "--no-offload" or "OVNETD_WORKERS=2".
const variants = (process.env.BENCH_VARIANTS ?? 'ovnetd,--no-offload').split(',');
function variantOf(v) {
  const words = v === 'ovnetd' ? [] : v.split(' ').filter(Boolean);
  return { args: words.filter((w) => !w.includes('=')), env: Object.fromEntries(words.filter((w) => w.includes('=')).map((w) => w.split('='))) };
}
console.log(`namespace benchmark: ${seconds}s per measurement, kernel VXLAN and ${variants.join(', ')} in one run`);
// Throughput one carrier at a time (each needs the whole machine); every carrier stays up for
// the ping rounds, which take turns between them (see pingInterleaved).
async function measureAll() {
  const opened = [];
  try {
    const names = ['kernel', ...variants, ...floors];
    const out = {};
    for (const name of names) {
      const isVariant = variants.includes(name);
      const o = isVariant ? await openCarrier('ovnetd', variantOf(name).args, variantOf(name).env) : await openCarrier(name);
      opened.push(o);
      out[name] = floors.includes(name) ? {} : await measureThroughput(o, seconds);
    }
    pingInterleaved(opened, 10, 30).forEach((p, i) => Object.assign(out[names[i]], p));
    return out;
  } finally {
    for (const o of opened) o.close();
  }
}
const all = await measureAll();
const kernel = all.kernel;
const results = Object.fromEntries(variants.map((v) => [v, all[v]]));
const floorRes = Object.fromEntries(floors.map((f) => [f, all[f]]));

const head = ['metric', 'kernel', ...variants.flatMap((v) => [v, 'ratio'])];
const table = rows.map(([label, key]) => [label, fmt(kernel[key]), ...variants.flatMap((v) => [fmt(results[v][key]), key === 'agentCpu' ? '' : (results[v][key] / kernel[key]).toFixed(3) + 'x'])]);
const widths = head.map((_, i) => Math.max(...[head, ...table].map((r) => String(r[i]).length)));
for (const r of [head, ...table]) console.log(r.map((c, i) => String(c).padEnd(widths[i])).join('  '));

// The latency floors: how much of a round trip any userspace relay pays on this machine.
if (floors.length) {
  console.log('\nping RTT, the same interleaved rounds, with reference relays (ms; ratio to the kernel):');
  const lines = [['carrier', 'avg', 'ratio', 'p99', 'ratio'],
    ...[['kernel VXLAN', kernel], ['floor-relay.c (epoll, read, sendto)', floorRes['c-relay']], ['node-relay.mjs (ovnetd ports, no forwarder)', floorRes['node-relay']],
      ...variants.map((v) => [`ovnetd ${v === 'ovnetd' ? '' : v}`.trim(), results[v]])]
      .map(([name, r]) => [name, fmt(r.pingAvg), (r.pingAvg / kernel.pingAvg).toFixed(2) + 'x', fmt(r.pingP99), (r.pingP99 / kernel.pingP99).toFixed(2) + 'x'])];
  const w = lines[0].map((_, i) => Math.max(...lines.map((r) => r[i].length)));
  for (const r of lines) console.log(r.map((c, i) => c.padEnd(w[i])).join('  '));
}
console.log(JSON.stringify({ bench: 'namespace', seconds, kernel, ...results, floors: floorRes }));

try {
  execFileSync(process.execPath, [new URL('./micro.mjs', import.meta.url).pathname], { stdio: 'inherit' });
} catch {
  console.error('bench: micro-benchmarks failed');
  process.exitCode = 1;
}
