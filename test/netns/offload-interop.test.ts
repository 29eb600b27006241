/**
 * Offloads against the Linux kernel's VXLAN, over an IPv4 and an IPv6 underlay: h1 runs ovnetd
 * (offloads on unless OVNETD_TEST_ARGS says --no-offload), h2 a kernel vxlan device. Large TCP
 * transfers each way, over IPv4 and IPv6 inside the overlay, arrive intact (SHA-256). A capture
 * on h2 shows what the wire carries from ovnetd: plain VXLAN datagrams within the MTU whose
 * outer UDP and inner TCP checksums are correct. The switch port toward h2 has its offloads
 * off, so the switch cuts ovnetd's UDP GSO sends into datagrams as a NIC would put them on
 * the wire, and completes the outer checksum (a veth would leave it partial).
 *
 *   e1 -- [h1: ovbr-42 + ovtap-42, ovnetd] --u0-- [sw: sw0, p2 offloads off] --u0-- [h2: ovbr-42 + vx42 (kernel)] -- e2
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeLab, ping, type Lab } from '../helpers/lab.js';
import { startAgent } from '../../src/lab/agent-process.js';
import { overlayMtu } from '../../src/host/mtu.js';
import { addIpv6, delta, kernelVxlanHost, linkStats, offloadOff, transfer, underlayOffload } from '../fixtures/offload-lab.js';

const MB = 1024 * 1024;

function haveTshark(): boolean {
  try { execFileSync('which', ['tshark'], { stdio: 'ignore' }); return true; } catch { return false; }
}

describe.each([4, 6] as const)('offloads against the kernel VXLAN, IPv%i underlay', (family) => {
  let lab: Lab;
  const mtu = overlayMtu(1500, family);
  beforeAll(async () => {
    lab = makeLab(2, family);
    const [h1, h2] = lab.topo.hosts;
    lab.agents = [await startAgent(lab.topo, 1, {
      dir: join(lab.dir, 'h1'),
      config: { advertise: h1.underlayIp, networks: [{ name: 'demo', vni: 42 }], peers: [h2.underlayIp], logLevel: 'warn' },
    })];
    kernelVxlanHost(lab, 2, 42, h1.underlayIp, mtu);
    lab.topo.exec(lab.topo.switchNs, ['ethtool', '-K', 'p2', 'tx', 'off', 'gso', 'off', 'tso', 'off', 'tx-udp-segmentation', 'off']);
    const e1 = lab.topo.addEndpoint(1, 42, '10.77.0.1', 24);
    const e2 = lab.topo.addEndpoint(2, 42, '10.77.0.2', 24, { mtu });
    addIpv6(lab, e1, 'fd42::1/64');
    addIpv6(lab, e2, 'fd42::2/64');
  });
  afterAll(async () => { await lab?.destroy(); });

  it('pings both ways', () => {
    const [e1, e2] = lab.topo.endpoints;
    expect(ping(lab, e1, '10.77.0.2')).toMatch(/3 received/);
    expect(ping(lab, e2, 'fd42::1')).toMatch(/3 received/);
  });

  it('puts plain VXLAN datagrams within the MTU with correct checksums on the wire', async () => {
    if (!haveTshark() && process.env.CI) throw new Error('tshark is missing (CI installs it)');
    if (!haveTshark()) return;
    const [e1, e2] = lab.topo.endpoints;
    const from = lab.topo.hosts[0].underlayIp;
    const cap = lab.topo.spawn(lab.topo.hostNs(2), ['tshark', '-l', '-n', '-i', 'u0', '-f', `udp dst port 4789 and src host ${from}`,
      '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-T', 'fields',
      '-e', 'frame.len', '-e', 'vxlan.vni', '-e', 'udp.checksum.status', '-e', 'tcp.checksum.status', '-e', 'tcp.len']);
    let out = '';
    let err = '';
    cap.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    cap.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<void>((r) => cap.once('exit', () => r()));
    // tshark says so once the capture runs; a loaded machine may take a while to get there.
    for (let t = 0; !err.includes('Capturing on') && t < 300; t++) await new Promise((r) => setTimeout(r, 100));
    expect(err).toContain('Capturing on');
    await transfer(lab, e1, e2, '10.77.0.2', 4 * MB);
    await transfer(lab, e1, e2, 'fd42::2', 2 * MB, 5004);
    await new Promise((r) => setTimeout(r, 1000));
    cap.kill('SIGINT');
    await exited;
    // Fields may be empty (no TCP in an ARP or ND packet): keep trailing tabs, drop empty lines.
    const rows = out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
    if (rows.length < 1000) throw new Error(`capture too short (${rows.length} rows); tshark said: ${err.slice(-500)}`);
    const data = rows.filter((r) => Number(r[4]) > 0);
    expect(data.length).toBeGreaterThan(1000);
    const tooBig = rows.filter((r) => Number(r[0]) > 1500 + 14);
    const badSum = rows.filter((r) => r[2] !== '1' || (r[3] !== undefined && r[3] !== '' && r[3] !== '1'));
    expect(tooBig).toEqual([]);
    expect(badSum).toEqual([]);
    for (const r of rows) expect(r[1]).toBe('42');
    // Full-sized segments: the MTU, not something smaller, bounds them.
    expect(Math.max(...data.map((r) => Number(r[0])))).toBe(1500 + 14);
  }, 120_000);

  it('carries large TCP transfers intact each way, over IPv4 and IPv6', async () => {
    const [e1, e2] = lab.topo.endpoints;
    const h1 = lab.topo.hostNs(1);
    const tap0 = linkStats(lab, h1, 'ovtap-42');
    const before = await underlayOffload(lab.agents[0]);
    await transfer(lab, e1, e2, '10.77.0.2', 100 * MB);
    await transfer(lab, e2, e1, '10.77.0.1', 100 * MB);
    await transfer(lab, e1, e2, 'fd42::2', 32 * MB);
    await transfer(lab, e2, e1, 'fd42::1', 32 * MB);
    const after = await underlayOffload(lab.agents[0]);
    const written = delta(tap0, linkStats(lab, h1, 'ovtap-42'));
    if (offloadOff()) {
      expect(after).toBeUndefined();
      return;
    }
    expect(after!.txBadOffload).toBe(0);
    expect(after!.txSegmented - before!.txSegmented).toBeGreaterThan(100);
    // The kernel sends datagram by datagram; ovnetd still coalesces them into super-frames.
    expect(written.rxBytes / written.rxPackets).toBeGreaterThan(1514);
  }, 300_000);
});
