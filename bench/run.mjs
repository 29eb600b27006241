// `npm run bench`: ovnetd against the kernel's VXLAN in the same run, then micro-benchmarks.
// A benchmark, not a test: it prints figures and ratios, it asserts nothing.
import { execFileSync } from 'node:child_process';
import { runCarrier } from './namespace-bench.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);

function check(cmd) {
  try { execFileSync('which', [cmd], { stdio: 'ignore' }); } catch { console.error(`bench: ${cmd} is not installed (apt-get install ${cmd})`); process.exit(1); }
}
if (process.getuid && process.getuid() !== 0) { console.error('bench: needs root (network namespaces)'); process.exit(1); }
['iperf3', 'ping', 'ip'].forEach(check);

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
const kernel = await runCarrier('kernel', seconds);
const results = {};
for (const v of variants) results[v] = await runCarrier('ovnetd', seconds, variantOf(v).args, variantOf(v).env);

const head = ['metric', 'kernel', ...variants.flatMap((v) => [v, 'ratio'])];
const table = rows.map(([label, key]) => [label, fmt(kernel[key]), ...variants.flatMap((v) => [fmt(results[v][key]), key === 'agentCpu' ? '' : (results[v][key] / kernel[key]).toFixed(3) + 'x'])]);
const widths = head.map((_, i) => Math.max(...[head, ...table].map((r) => String(r[i]).length)));
for (const r of [head, ...table]) console.log(r.map((c, i) => String(c).padEnd(widths[i])).join('  '));
console.log(JSON.stringify({ bench: 'namespace', seconds, kernel, ...results }));

try {
  execFileSync(process.execPath, [new URL('./micro.mjs', import.meta.url).pathname], { stdio: 'inherit' });
} catch {
  console.error('bench: micro-benchmarks failed');
  process.exitCode = 1;
}
