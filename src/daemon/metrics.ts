/**
 * Prometheus metrics. The data plane keeps its counters in typed arrays; this module reads
 * them only when scraped (collect callbacks), so metrics cost nothing per packet.
 */
import { createServer, type Server } from 'node:http';
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { OvnError } from '../lib/errors.js';
import { DROP_COUNTER_NAMES } from '../dataplane/counters.js';
import type { DataplaneCounters } from '../dataplane/dataplane.js';

export interface MetricsSource {
  counters(): DataplaneCounters;
  store(): { configured: boolean; healthy: boolean; watchErrors: number; corruptEntries: number };
}

/** Replaces a counter's samples with the current totals (counters only ever grow upstream). */
function fill<T extends string>(c: Counter<T>, rows: [Partial<Record<T, string>>, number][]): void {
  c.reset();
  for (const [labels, v] of rows) if (v > 0) c.inc(labels, v); else c.inc(labels, 0);
}

export function buildRegistry(src: MetricsSource): Registry {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg });
  const net = (name: string, help: string, key: string, direction?: 'rx' | 'tx') => new Counter({
    name, help, labelNames: direction ? ['network', 'vni', 'direction'] : ['network', 'vni'], registers: [reg],
    collect() {
      const c = src.counters();
      if (!direction) { fill(this, c.networks.map((n) => [{ network: String(n.name), vni: String(n.vni) }, Number(n[key] ?? 0)])); return; }
      const rows: [Record<string, string>, number][] = [];
      for (const n of c.networks) for (const d of ['rx', 'tx'] as const) rows.push([{ network: String(n.name), vni: String(n.vni), direction: d }, Number(n[`${d}_${key}`] ?? 0)]);
      fill(this, rows);
    },
  });
  net('ovnetd_frames_total', 'Frames carried, per network and direction (rx: from the overlay to the TAP)', 'frames', 'rx');
  net('ovnetd_bytes_total', 'Frame bytes carried, per network and direction', 'bytes', 'rx');
  net('ovnetd_flooded_frames_total', 'Frames replicated to every peer (broadcast, multicast, unknown unicast)', 'flooded_frames');
  net('ovnetd_unicast_frames_total', 'Frames sent to one known peer', 'unicast_frames');
  new Counter({
    name: 'ovnetd_drops_total', help: 'Dropped packets by reason', labelNames: ['reason'], registers: [reg],
    collect() { const g = src.counters().global; fill(this, DROP_COUNTER_NAMES.map((r) => [{ reason: r }, g[r] ?? 0])); },
  });
  new Counter({
    name: 'ovnetd_suppressed_total', help: 'ARP requests and IPv6 neighbour solicitations answered locally', labelNames: ['kind'], registers: [reg],
    collect() {
      const g = src.counters().global;
      fill(this, Object.keys(g).filter((k) => k.startsWith('suppressed_')).map((k) => [{ kind: k.slice('suppressed_'.length) }, g[k]]));
    },
  });
  new Counter({
    name: 'ovnetd_fdb_events_total', help: 'Forwarding-table events', labelNames: ['event'], registers: [reg],
    collect() {
      const g = src.counters().global;
      fill(this, ['fdb_learned', 'fdb_moved', 'fdb_aged', 'fdb_evicted', 'fdb_full'].map((k) => [{ event: k.slice(4) }, g[k] ?? 0]));
    },
  });
  new Gauge({ name: 'ovnetd_fdb_entries', help: 'Forwarding-table entries in use', registers: [reg], collect() { this.set(src.counters().fdbSize); } });
  new Gauge({ name: 'ovnetd_fdb_capacity', help: 'Forwarding-table capacity', registers: [reg], collect() { this.set(src.counters().fdbCapacity); } });
  new Gauge({ name: 'ovnetd_peers', help: 'Peers forwarded to', registers: [reg], collect() { this.set(src.counters().peers); } });
  new Gauge({ name: 'ovnetd_networks', help: 'Networks on this host', registers: [reg], collect() { this.set(src.counters().networks.length); } });
  new Gauge({
    name: 'ovnetd_store_up', help: '1 when the store is reachable, 0 when degraded (absent in static mode)', registers: [reg],
    collect() { const s = src.store(); this.reset(); if (s.configured) this.set(s.healthy ? 1 : 0); },
  });
  new Counter({ name: 'ovnetd_store_watch_errors_total', help: 'Store watch errors', registers: [reg], collect() { fill(this, [[{}, src.store().watchErrors]]); } });
  new Counter({ name: 'ovnetd_store_corrupt_entries_total', help: 'Corrupted or foreign store entries skipped', registers: [reg], collect() { fill(this, [[{}, src.store().corruptEntries]]); } });
  return reg;
}

export async function serveMetrics(reg: Registry, addr: { host: string; port: number }): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n');
      return;
    }
    reg.metrics().then(
      (body) => res.writeHead(200, { 'content-type': reg.contentType }).end(body),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new OvnError('OVN_ERR_CONFIG', `metrics: cannot listen on ${addr.host}:${addr.port} (${e.code})`)));
    server.listen(addr.port, addr.host, () => resolve());
  });
  return server;
}
