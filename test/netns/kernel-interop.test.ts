/**
 * Interoperability with the Linux kernel's own VXLAN: h1 runs ovnetd, h2 a kernel vxlan device
 * in a bridge, with an all-zeros FDB entry toward h1 for flooding. A capture on h2's underlay
 * must decode as VXLAN with VNI 42 in both directions.
 *
 *   e1 10.77.0.1 -- [h1: ovbr-42 + ovtap-42, ovnetd] --u0-- sw0 --u0-- [h2: ovbr-42 + vx42 (kernel)] -- e2 10.77.0.2
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeLab, ping, type Lab } from '../helpers/lab.js';
import { startAgent } from '../../src/lab/agent-process.js';

const FIXTURES = join(__dirname, '../fixtures');

function haveTshark(): boolean {
  try { execFileSync('which', ['tshark'], { stdio: 'ignore' }); return true; } catch { return false; }
}

export function kernelVxlanHost(lab: Lab, host: number, vni: number, remote: string): void {
  const ns = lab.topo.hostNs(host);
  const local = lab.topo.hosts[host - 1].underlayIp;
  const x = (argv: string[]) => lab.topo.exec(ns, argv);
  x(['ip', 'link', 'add', `vx${vni}`, 'type', 'vxlan', 'id', String(vni), 'dstport', '4789', 'local', local, 'dev', 'u0']);
  x(['ip', 'link', 'add', `ovbr-${vni}`, 'type', 'bridge']);
  x(['ip', 'link', 'set', `vx${vni}`, 'master', `ovbr-${vni}`, 'mtu', '1450', 'up']);
  x(['ip', 'link', 'set', `ovbr-${vni}`, 'up']);
  x(['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', `vx${vni}`, 'dst', remote]);
  // A veth hands over CHECKSUM_PARTIAL packets whose inner TCP checksum was never filled in
  // (a real NIC fills it). Checksumming in software on the kernel host's underlay emulates that.
  x(['ethtool', '-K', 'u0', 'tx', 'off']);
}

async function transfer(lab: Lab, from: number, to: number, bytes: number): Promise<void> {
  const src = lab.topo.endpoints[from], dst = lab.topo.endpoints[to];
  const server = lab.topo.spawn(dst.ns, [process.execPath, join(FIXTURES, 'tcp-transfer.mjs'), 'server', '5002']);
  let out = '';
  server.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 50));
  const sent = lab.topo.exec(src.ns, [process.execPath, join(FIXTURES, 'tcp-transfer.mjs'), 'client', dst.ip, '5002', String(bytes)], 120_000).trim();
  await new Promise<void>((r) => server.once('exit', () => r()));
  expect(sent).toMatch(new RegExp(`^${bytes} [0-9a-f]{64}$`));
  expect(out.split('\n')).toContain(sent);
}

describe('interoperability with the kernel VXLAN', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = makeLab(2);
    lab.agents = [await startAgent(lab.topo, 1, {
      dir: join(lab.dir, 'h1'),
      config: { advertise: '192.168.77.1', networks: [{ name: 'demo', vni: 42 }], peers: ['192.168.77.2'], logLevel: 'warn' },
    })];
    kernelVxlanHost(lab, 2, 42, '192.168.77.1');
    lab.topo.addEndpoint(1, 42, '10.77.0.1', 24);
    lab.topo.addEndpoint(2, 42, '10.77.0.2', 24, { mtu: 1450 });
  });
  afterAll(async () => { await lab?.destroy(); });

  it('pings both ways, and a capture decodes as VXLAN VNI 42 with flow-hashed source ports', async () => {
    if (!haveTshark() && process.env.CI) throw new Error('tshark is missing (CI installs it)');
    const [e1, e2] = lab.topo.endpoints;
    const cap = haveTshark()
      ? lab.topo.spawn(lab.topo.hostNs(2), ['tshark', '-n', '-i', 'u0', '-f', 'udp port 4789', '-a', 'duration:8', '-T', 'fields',
        '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'vxlan.vni', '-e', 'vxlan.flags'])
      : undefined;
    let capOut = '';
    cap?.stdout!.on('data', (d: Buffer) => { capOut += d.toString(); });
    await new Promise((r) => setTimeout(r, 2000));
    expect(ping(lab, e1, '10.77.0.2')).toMatch(/3 received/);
    expect(ping(lab, e2, '10.77.0.1')).toMatch(/3 received/);
    if (!cap) return;
    await new Promise<void>((r) => cap.once('exit', () => r()));
    const rows = capOut.trim().split('\n').map((l) => l.split('\t'));
    const fromOvnetd = rows.filter((r) => r[0] === '192.168.77.1');
    const fromKernel = rows.filter((r) => r[0] === '192.168.77.2');
    expect(fromOvnetd.length).toBeGreaterThanOrEqual(3);
    expect(fromKernel.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) expect(r[2]).toBe('42');
    for (const r of fromOvnetd) expect(Number(r[1])).toBeGreaterThanOrEqual(49152);
  }, 60_000);

  it('carries TCP transfers intact each way', async () => {
    await transfer(lab, 0, 1, 20 * 1024 * 1024);
    await transfer(lab, 1, 0, 20 * 1024 * 1024);
  }, 120_000);
});
