// 1 data-plane worker against 2 (io/dataplane-workers.ts), interleaved over several rounds so
// that a noisy shared machine hurts both alike; prints medians and the kernel's figures of the
// same rounds. Run after `npm run build`: node bench/workers.mjs [rounds] (BENCH_SECONDS, default 4).
import { runCarrier } from './namespace-bench.mjs';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const keys = ['tcp1', 'tcp4', 'udp64pps', 'pingAvg', 'pingP99', 'sysCpuPerGbit'];
const carriers = { kernel: ['kernel', {}], '1 worker': ['ovnetd', { OVNETD_WORKERS: '1' }], '2 workers': ['ovnetd', { OVNETD_WORKERS: '2' }] };
const runs = Object.fromEntries(Object.keys(carriers).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, [kind, env]] of Object.entries(carriers)) {
    runs[name].push(await runCarrier(kind, seconds, [], env));
    console.error(`round ${r + 1}/${rounds} ${name}: ${JSON.stringify(runs[name].at(-1))}`);
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const fmt = (v) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en') : v.toFixed(3));
console.log(['metric (median)', ...Object.keys(carriers)].join('\t'));
for (const k of keys) console.log([k, ...Object.keys(carriers).map((c) => fmt(median(runs[c].map((x) => x[k]))))].join('\t'));
console.log(JSON.stringify({ bench: 'workers', rounds, seconds, runs }));
