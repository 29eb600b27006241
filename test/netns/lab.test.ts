/**
 * The one-machine lab as a newcomer runs it: `ovnetd lab up`, status, exec, down (twice, and
 * after its processes were killed). Nothing may be left behind, and the root namespace's
 * addresses and routes must be untouched.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { OVNETD_BIN } from '../../src/lab/agent-process.js';
import { labNamespaces, readLabState } from '../../src/lab/lab.js';

function ovnetd(args: string[], timeoutMs = 120_000) {
  return spawnSync(process.execPath, [OVNETD_BIN, ...args], { encoding: 'utf8', timeout: timeoutMs });
}
const rootView = () => spawnSync('ip', ['-j', 'addr'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['route'], { encoding: 'utf8' }).stdout;

describe('ovnetd lab', () => {
  let before = '';
  let foreignLab = false;
  beforeAll(() => {
    foreignLab = labNamespaces().length > 0;
    before = rootView();
  });
  afterAll(() => { if (!foreignLab) ovnetd(['lab', 'down']); });

  it('up builds hosts, store, agents, a network and endpoints, and they all ping', (ctx) => {
    if (foreignLab) return ctx.skip(); // someone's lab is up on this machine: leave it alone
    const r = ovnetd(['lab', 'up', '--hosts', '2']);
    expect(r.stderr).toMatch(/\[7\/7\]/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/FROM\s+TO\s+RESULT/);
    expect(r.stdout).not.toMatch(/FAIL/);
    expect(readLabState()?.endpoints).toHaveLength(2);
  });

  it('status, exec, and a second up refuses clearly', (ctx) => {
    if (foreignLab) return ctx.skip();
    const s = JSON.parse(ovnetd(['lab', 'status', '--json']).stdout) as { agents: { status?: { peers: number; store: { health: string } } }[] };
    expect(s.agents.map((a) => a.status?.peers)).toEqual([1, 1]);
    expect(s.agents.every((a) => a.status?.store.health === 'ok')).toBe(true);
    const ep2 = readLabState()!.endpoints[1];
    const e = ovnetd(['lab', 'exec', 'e1', '--', 'ping', '-c', '1', '-W', '2', ep2.ip]);
    expect(e.status).toBe(0);
    const again = ovnetd(['lab', 'up']);
    expect(again.status).not.toBe(0);
    expect(again.stderr.trim().split('\n').pop()).toMatch(/already up.*lab down/);
  });

  it('serves Prometheus metrics with the documented names', (ctx) => {
    if (foreignLab) return ctx.skip();
    const r = spawnSync('ip', ['netns', 'exec', 'ovlab-h1', process.execPath, '-e',
      'fetch("http://127.0.0.1:9474/metrics").then((r) => r.text()).then((t) => process.stdout.write(t))'], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(0);
    for (const name of ['ovnetd_frames_total{network="demo",vni="4242",direction="rx"}', 'ovnetd_bytes_total', 'ovnetd_drops_total{reason="unknown_peer"}',
      'ovnetd_flooded_frames_total', 'ovnetd_suppressed_total', 'ovnetd_fdb_entries', 'ovnetd_fdb_capacity 65536', 'ovnetd_peers 1',
      'ovnetd_store_up 1', 'ovnetd_store_watch_errors_total', 'process_cpu_user_seconds_total']) expect(r.stdout).toContain(name);
    const rx = /ovnetd_frames_total\{network="demo",vni="4242",direction="rx"\} (\d+)/.exec(r.stdout);
    expect(Number(rx?.[1])).toBeGreaterThan(0);
  });

  it('doctor agrees with a healthy lab, and reports each difference made by hand', (ctx) => {
    if (foreignLab) return ctx.skip();
    const doctor = () => spawnSync('ip', ['netns', 'exec', 'ovlab-h1', process.execPath, OVNETD_BIN, 'doctor', '--json',
      '--control-socket', '/run/ovnetd-lab/h1/ovnetd.sock'], { encoding: 'utf8', timeout: 30_000 });
    const ok = doctor();
    expect(ok.stdout).toMatch(/"ok": true/);
    expect(ok.status).toBe(0);
    spawnSync('ip', ['-n', 'ovlab-h1', 'link', 'add', 'ovbr-999', 'type', 'bridge']);
    spawnSync('ip', ['-n', 'ovlab-h1', 'link', 'set', 'ovtap-4242', 'nomaster']);
    const bad = doctor();
    expect(bad.status).toBe(1);
    const kinds = (JSON.parse(bad.stdout) as { findings: { kind: string }[] }).findings.map((f) => f.kind).sort();
    expect(kinds).toEqual(['leftover-device', 'tap-not-in-bridge']);
    spawnSync('ip', ['-n', 'ovlab-h1', 'link', 'del', 'ovbr-999']);
    spawnSync('ip', ['-n', 'ovlab-h1', 'link', 'set', 'ovtap-4242', 'master', 'ovbr-4242']);
    expect(doctor().status).toBe(0);
  });

  it('down removes everything, also after its processes were killed, and twice', (ctx) => {
    if (foreignLab) return ctx.skip();
    const agent = readLabState()!.pids.find((p) => p.name === 'agent-h2')!;
    process.kill(agent.pid, 'SIGKILL');
    expect(ovnetd(['lab', 'down']).status).toBe(0);
    expect(ovnetd(['lab', 'down']).status).toBe(0);
    expect(labNamespaces()).toEqual([]);
    expect(existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((d) => d.startsWith('ovlab-')) : []).toEqual([]);
    expect(rootView()).toBe(before);
  });
});
