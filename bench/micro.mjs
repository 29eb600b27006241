#!/usr/bin/env node
/**
 * Micro-benchmarks of the pure data plane, run against the compiled output:
 *   npx tsc -p tsconfig.build.json && node bench/micro.mjs [--quick]
 * - fdb lookups per second, hits and misses, with the table filled to capacity (50% of slots);
 * - forwarder ns per frame: fromTap unicast (fdb hit), fromTap flood to 8 peers, fromUnderlay
 *   (decode, peer and membership checks, learn-refresh, queue to TAP), with ports that do no I/O.
 * Prints a table and then one JSON line (for CI to keep).
 */
import { Fdb } from '../dist/dataplane/fdb.js';
import { Dataplane } from '../dist/dataplane/dataplane.js';
import { HEADROOM } from '../dist/dataplane/ports.js';
import { buildVxlanHeader } from '../dist/dataplane/vxlan.js';
import { formatMac } from '../dist/dataplane/ethernet.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 7;

function nowNs() {
  return process.hrtime.bigint();
}

/** Median of ROUNDS timings of fn(), which does `ops` operations; returns ns per op. */
function measure(ops, fn) {
  for (let i = 0; i < 2; i++) fn(); // warm up: let the JIT settle
  const t = [];
  for (let r = 0; r < ROUNDS; r++) {
    const a = nowNs();
    fn();
    t.push(Number(nowNs() - a) / ops);
  }
  t.sort((x, y) => x - y);
  return t[t.length >> 1];
}

// Deterministic pseudo-random keys (xorshift), so runs compare.
let seed = 0x2545f491;
function rnd() {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return seed >>> 0;
}

function benchFdb() {
  const capacity = 65_536;
  const fdb = new Fdb(capacity);
  const n = capacity;
  const vni = new Uint32Array(n), hi = new Uint16Array(n), lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    vni[i] = 100 + (i & 7);
    hi[i] = (rnd() & 0xfeff) | 0x0200; // unicast, locally administered
    lo[i] = rnd();
    fdb.learn(vni[i], hi[i], lo[i], i & 255, 0);
  }
  const missLo = new Uint32Array(n);
  for (let i = 0; i < n; i++) missLo[i] = lo[i] ^ 0x5a5a5a5a;
  const LOOKUPS = QUICK ? 2_000_000 : 10_000_000;
  let sink = 0;
  const hit = measure(LOOKUPS, () => {
    for (let k = 0; k < LOOKUPS; k++) { const i = k & (n - 1); sink += fdb.lookup(vni[i], hi[i], lo[i]); }
  });
  const miss = measure(LOOKUPS, () => {
    for (let k = 0; k < LOOKUPS; k++) { const i = k & (n - 1); sink += fdb.lookup(vni[i], hi[i], missLo[i]); }
  });
  if (sink === 42) console.log('');
  return { entries: fdb.size, slots: fdb.slotCount, hitNs: hit, missNs: miss };
}

/** Ports that move nothing: the cost measured is the forwarder's alone. */
class NullUnderlay {
  localPort = 4789;
  datagrams = 0;
  start(batch, onBatch) { this.batch = batch; this.onBatch = onBatch; }
  setPeer() {}
  clearPeer() {}
  send(list) { this.datagrams += list.count; return list.count; }
  stats() { return {}; }
  close() {}
}
class NullTap {
  frames = 0;
  constructor(name) { this.name = name; }
  start(batch, onBatch) { this.batch = batch; this.onBatch = onBatch; }
  write(list) { this.frames += list.count; return list.count; }
  stats() { return {}; }
  close() {}
}

function writeFrame(buf, off, dst, src, len) {
  buf.fill(0, off, off + len);
  buf.writeUIntBE(dst, off, 6);
  buf.writeUIntBE(src, off + 6, 6);
  buf.writeUInt16BE(0x0800, off + 12);
  buf[off + 14] = 0x45; // IPv4, TCP ports hashed
  buf[off + 23] = 6;
  buf.writeUInt32BE(0x0a000001, off + 26);
  buf.writeUInt32BE(0x0a000002, off + 30);
  buf.writeUInt16BE(40000 + (src & 0xff), off + 34);
}

function benchForwarder() {
  const underlay = new NullUnderlay();
  const taps = new Map();
  const clock = { now: () => performance.now(), setTimeout, clearTimeout };
  const dp = new Dataplane({ underlay, taps: { open: (vni, name) => { const t = new NullTap(name); taps.set(vni, t); return t; } }, clock });
  const peers = Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, address: `10.0.0.${i + 2}`, port: 4789, vnis: [100, 200] }));
  const REMOTE = 0x020000000b00;
  dp.apply({
    kind: 'snapshot',
    networks: [{ vni: 100, name: 'uni', tapName: 'ovtap-100' }, { vni: 200, name: 'flood', tapName: 'ovtap-200' }],
    peers,
    pinned: Array.from({ length: 64 }, (_, i) => ({ vni: 100, mac: formatMac(Math.floor((REMOTE + i) / 2 ** 32), (REMOTE + i) % 2 ** 32), peerId: `p${i & 7}` })),
  });
  dp.start();
  const FRAME = 1400;
  const BATCHES = QUICK ? 20_000 : 100_000;

  // fromTap, unicast: 64 frames to 64 known MACs.
  const t100 = taps.get(100);
  const b = t100.batch;
  for (let i = 0; i < b.capacity; i++) { writeFrame(b.buf, b.packetOffset(i), REMOTE + i, 0x020000000001, FRAME); b.len[i] = FRAME; }
  b.count = b.capacity;
  const tapUnicast = measure(BATCHES * b.count, () => { for (let k = 0; k < BATCHES; k++) t100.onBatch(b); });

  // fromTap, flood: broadcast to 8 peers.
  const t200 = taps.get(200);
  const fb = t200.batch;
  for (let i = 0; i < fb.capacity; i++) { writeFrame(fb.buf, fb.packetOffset(i), 0xffffffffffff, 0x020000000001, FRAME); fb.len[i] = FRAME; }
  fb.count = fb.capacity;
  const FLOOD_BATCHES = Math.floor(BATCHES / 4);
  const tapFlood = measure(FLOOD_BATCHES * fb.count, () => { for (let k = 0; k < FLOOD_BATCHES; k++) t200.onBatch(fb); });

  // fromUnderlay: 64 datagrams from p0, 64 source MACs (learn refresh after the first batch).
  const ub = underlay.batch;
  const header = buildVxlanHeader(100);
  for (let i = 0; i < ub.capacity; i++) {
    const off = ub.packetOffset(i);
    ub.buf.set(header, off);
    writeFrame(ub.buf, off + 8, 0x020000000001, 0x020000000c00 + i, FRAME);
    ub.len[i] = FRAME + 8;
    ub.srcAddr.set([0, 0, 0xffff, 0x0a000002], i * 4);
    ub.srcPort[i] = 50_000 + i;
  }
  ub.count = ub.capacity;
  const rx = measure(BATCHES * ub.count, () => { for (let k = 0; k < BATCHES; k++) underlay.onBatch(ub); });

  const g = dp.counters().global;
  const drops = ['too_short', 'bad_flags', 'reserved_bits', 'unknown_vni', 'unknown_peer', 'peer_not_member', 'inner_too_short', 'tap_too_short'].reduce((s, k) => s + g[k], 0);
  if (drops !== 0) throw new Error(`benchmark traffic was dropped: ${JSON.stringify(g)}`);
  dp.close();
  return { frameBytes: FRAME, batch: b.capacity, tapUnicastNs: tapUnicast, tapFlood8Ns: tapFlood, underlayRxNs: rx, headroom: HEADROOM };
}

const fdb = benchFdb();
const fwd = benchForwarder();
const rows = [
  ['fdb lookup hit', `${fdb.hitNs.toFixed(1)} ns`, `${(1e3 / fdb.hitNs).toFixed(1)} M/s`],
  ['fdb lookup miss', `${fdb.missNs.toFixed(1)} ns`, `${(1e3 / fdb.missNs).toFixed(1)} M/s`],
  ['fromTap unicast', `${fwd.tapUnicastNs.toFixed(1)} ns/frame`, `${(1e3 / fwd.tapUnicastNs).toFixed(2)} Mfps`],
  ['fromTap flood x8', `${fwd.tapFlood8Ns.toFixed(1)} ns/frame`, `${(1e3 / fwd.tapFlood8Ns).toFixed(2)} Mfps`],
  ['fromUnderlay', `${fwd.underlayRxNs.toFixed(1)} ns/frame`, `${(1e3 / fwd.underlayRxNs).toFixed(2)} Mfps`],
];
console.log(`node ${process.version}; fdb ${fdb.entries} entries in ${fdb.slots} slots (50% load); frames ${fwd.frameBytes} B, batch ${fwd.batch}; median of ${ROUNDS}`);
for (const [name, per, rate] of rows) console.log(`${name.padEnd(18)} ${per.padStart(16)} ${rate.padStart(14)}`);
console.log(JSON.stringify({
  bench: 'dataplane-micro', node: process.version, quick: QUICK,
  fdbEntries: fdb.entries, fdbSlots: fdb.slots, fdbLookupHitNs: +fdb.hitNs.toFixed(2), fdbLookupMissNs: +fdb.missNs.toFixed(2),
  fromTapUnicastNsPerFrame: +fwd.tapUnicastNs.toFixed(2), fromTapFlood8NsPerFrame: +fwd.tapFlood8Ns.toFixed(2),
  fromUnderlayNsPerFrame: +fwd.underlayRxNs.toFixed(2),
}));
