/**
 * Hostile input: malformed, truncated, unknown-VNI and non-peer datagrams sent at an agent are
 * dropped and counted, and it keeps forwarding. Bad configuration is refused before anything
 * is created.
 *
 *   e1 -- [h1 agent] --+-- sw0 --+-- [h2 agent] -- e2
 *                      +-- [h3: no agent, not a peer: sends garbage]
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { makeLab, ping, counter, type Lab } from '../helpers/lab.js';
import { startAgent, OVNETD_BIN } from '../../src/lab/agent-process.js';

const SEND = join(__dirname, '../fixtures/udp-send.mjs');
const FRAME = 'ffffffffffff020e000000010806' + '00'.repeat(46); // broadcast, ARP ethertype, padded
const vx = (flags: string, vni: number, rsv = '000000', tail = '00') => flags + rsv + vni.toString(16).padStart(6, '0') + tail;

describe('bad input', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = makeLab(3);
    const nets = [{ name: 'demo', vni: 42 }];
    lab.agents = [
      await startAgent(lab.topo, 1, { dir: join(lab.dir, 'h1'), config: { advertise: '192.168.77.1', networks: nets, peers: ['192.168.77.2'], logLevel: 'warn' } }),
      await startAgent(lab.topo, 2, { dir: join(lab.dir, 'h2'), config: { advertise: '192.168.77.2', networks: nets, peers: ['192.168.77.1'], logLevel: 'warn' } }),
    ];
    lab.topo.addEndpoint(1, 42, '10.77.0.1', 24);
    lab.topo.addEndpoint(2, 42, '10.77.0.2', 24);
  });
  afterAll(async () => { await lab?.destroy(); });

  it('drops and counts every kind of bad datagram, and keeps forwarding', async () => {
    const send = (host: number, payloads: string[]) =>
      lab.topo.exec(lab.topo.hostNs(host), [process.execPath, SEND, '192.168.77.1', '4789', ...payloads]);
    const before = (await lab.agents[0].status()).counters;
    send(2, [
      '0800',                                  // shorter than a VXLAN header
      vx('00', 42, '000000', '00') + FRAME,    // I flag clear
      vx('08', 42, '000001', '00') + FRAME,    // reserved bits set
      vx('08', 4242) + FRAME,                  // unknown VNI
      vx('08', 42) + 'ffffffffff',             // inner frame shorter than an Ethernet header
    ]);
    send(3, [vx('08', 42) + FRAME]);           // well formed, but h3 is not a peer
    await new Promise((r) => setTimeout(r, 500));
    const after = (await lab.agents[0].status()).counters;
    for (const reason of ['too_short', 'bad_flags', 'reserved_bits', 'unknown_vni', 'inner_too_short', 'unknown_peer']) {
      expect(counter(after, reason) - counter(before, reason), reason).toBe(1);
    }
    expect(lab.agents[0].exitCode).toBeNull();
    expect(ping(lab, lab.topo.endpoints[0], '10.77.0.2')).toMatch(/3 received/);
  });

  it('a burst of random datagrams changes nothing but counters', async () => {
    const payloads = Array.from({ length: 200 }, (_, i) => Buffer.from(Array.from({ length: 1 + (i * 37) % 300 }, (_, j) => (i * 31 + j * 7) & 0xff)).toString('hex'));
    lab.topo.exec(lab.topo.hostNs(2), [process.execPath, SEND, '192.168.77.1', '4789', ...payloads]);
    expect(ping(lab, lab.topo.endpoints[1], '10.77.0.1')).toMatch(/3 received/);
    expect((await lab.agents[0].status()).networks.map((n) => n.vni)).toEqual([42]);
  });

  it('refuses bad configuration with one line naming the field, creating nothing', () => {
    const ns = lab.topo.hostNs(3);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ advertise: '192.168.77.3', networks: [{ name: 'x', vni: 0 }] }, /networks\[0\]\.vni/],
      [{ advertise: 'nope', networks: [] }, /advertise/],
      [{ advertise: '192.168.77.3', networks: [{ name: 'x', vni: 7, subnet: '10.1.1.1/24' }] }, /networks\[0\]\.subnet.*host bits/],
      [{ advertise: '192.168.77.3', peers: ['192.168.77.1'], networks: [{ name: 'x', vni: 7 }], bogus: 1 }, /bogus: unknown field/],
    ];
    for (const [cfg, re] of cases) {
      const file = join(lab.dir, 'bad.json');
      writeFileSync(file, JSON.stringify(cfg));
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, OVNETD_BIN, 'agent', '--config', file, '--state-dir', join(lab.dir, 'bad-state'), '--control-socket', join(lab.dir, 'bad.sock'), '--metrics', 'off'], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/OVN_ERR_CONFIG/);
      expect(lines[0]).toMatch(re);
    }
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, OVNETD_BIN, 'agent', '--port', 'x', '--advertise', '192.168.77.3'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(lab.topo.exec(ns, ['ip', '-br', 'link'])).not.toMatch(/ovbr|ovtap/);
  });
});
