/**
 * The agent as scripts/ovnetd.service runs it: a user other than root holding CAP_NET_ADMIN and
 * no other capability (setpriv stands in for User= plus AmbientCapabilities= and
 * CapabilityBoundingSet=). Without the capability it must refuse to start with one clear line.
 *
 *   e1 -- [h1 agent: uid nobody, CapEff net_admin] --+-- sw0 --+-- [h2 agent: same] -- e2
 *                                                    +-- [h3: agent without the capability]
 *
 * /dev/net/tun is 0666 on a stock distribution; a container may make it 0600. Each agent gets a
 * 0666 node of the same device bound over it in a mount namespace of its own, so nothing on the
 * machine changes and the only thing the user lacks is what is under test.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLab, ping, type Lab } from '../helpers/lab.js';
import { AgentProcess, OVNETD_BIN, waitReady } from '../../src/lab/agent-process.js';

const NOBODY = 65534;
const CAP_NET_ADMIN = 12;
const NETS = [{ name: 'demo', vni: 42 }];

describe('the agent as a non-root user', () => {
  let lab: Lab;
  let dir: string;
  let tun: string;

  /** argv that runs `ovnetd agent` as nobody with the given capabilities, inside a private mount namespace. */
  function asNobody(caps: 'net_admin' | 'none', agentDir: string, config: Record<string, unknown>): string[] {
    mkdirSync(agentDir, { recursive: true });
    chownSync(agentDir, NOBODY, NOBODY);
    const file = join(agentDir, 'config.json');
    writeFileSync(file, JSON.stringify({ ...config, stateDir: join(agentDir, 'state'), controlSocket: join(agentDir, 'ovnetd.sock'), metrics: 'off', logLevel: 'warn' }));
    const capArgs = caps === 'net_admin'
      ? ['--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--bounding-set=-all,+net_admin']
      : ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all'];
    return ['unshare', '--mount', '--', 'sh', '-c', 'mount --bind "$0" /dev/net/tun && exec "$@"', tun,
      'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...capArgs,
      process.execPath, OVNETD_BIN, 'agent', '--config', file];
  }

  async function startNonRoot(host: number): Promise<AgentProcess> {
    const agentDir = join(dir, `h${host}`);
    const argv = asNobody('net_admin', agentDir, { advertise: `192.168.77.${host}`, networks: NETS, peers: [`192.168.77.${3 - host}`] });
    const agent = new AgentProcess(lab.topo.spawn(lab.topo.hostNs(host), argv), agentDir);
    lab.agents.push(agent);
    await waitReady(agent, 15_000);
    return agent;
  }

  beforeAll(() => {
    lab = makeLab(3);
    // The agent's user must reach its config, state and socket: a world-traversable directory.
    dir = mkdtempSync(join(tmpdir(), 'ovnetd-caps-'));
    chmodSync(dir, 0o755);
    tun = join(dir, 'tun');
    const r = spawnSync('mknod', ['-m', '666', tun, 'c', '10', '200'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mknod ${tun}: ${r.stderr}`);
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('works holding only CAP_NET_ADMIN: makes its devices and forwards', async () => {
    const agents = [await startNonRoot(1), await startNonRoot(2)];
    for (const a of agents) {
      const proc = readFileSync(`/proc/${(await a.status()).pid}/status`, 'utf8');
      expect(proc).toMatch(new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, 'm'));
      const eff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(proc)![1]}`);
      expect(eff).toBe(1n << BigInt(CAP_NET_ADMIN));
    }
    lab.topo.addEndpoint(1, 42, '10.77.0.1', 24);
    lab.topo.addEndpoint(2, 42, '10.77.0.2', 24);
    expect(ping(lab, lab.topo.endpoints[0], '10.77.0.2')).toMatch(/3 received/);
    for (const a of agents) expect(await a.stop()).toBe(0);
  });

  it('without CAP_NET_ADMIN refuses to start with one OVN_ERR_PERMISSION line, making nothing', () => {
    const ns = lab.topo.hostNs(3);
    const argv = asNobody('none', join(dir, 'h3'), { advertise: '192.168.77.3', networks: NETS, peers: ['192.168.77.1'] });
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(/^ovnetd: OVN_ERR_PERMISSION: .*CAP_NET_ADMIN/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(lab.topo.exec(ns, ['ip', '-br', 'link'])).not.toMatch(/ovbr-|ovtap-/);
  });
});
