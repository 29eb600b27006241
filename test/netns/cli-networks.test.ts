/**
 * `ovnetd create/ls/inspect/rm` as a user runs them: real processes against the embedded store
 * on loopback. Every refusal exits non-zero with one line on stderr and leaves the store as it was.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OVNETD_BIN } from '../../src/lab/agent-process.js';

// The store runs as its own process: spawnSync below blocks this process's event loop.
let store: ChildProcess;
let url: string;
let dir: string;
const server = { get url() { return url; } };

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [OVNETD_BIN, ...args, '--store', server.url], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [OVNETD_BIN, ...args, '--store', server.url]);
    let stdout = '', stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

function list(): unknown {
  const r = run(['ls', '--json']);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ovnetd-cli-'));
  const port = await freePort();
  url = `consul://127.0.0.1:${port}`;
  store = spawn(process.execPath, [OVNETD_BIN, 'store', 'serve', '--listen', `127.0.0.1:${port}`, '--data', dir, '--log-level', 'warn'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/v1/status/leader`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = run(['create', 'base', '--subnet', '10.10.0.0/16', '--vni', '100']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
afterAll(async () => {
  if (store?.pid && store.exitCode === null) store.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('ovnetd create / ls / inspect / rm', () => {
  it.each([
    [['create', 'bad-cidr', '--subnet', '10.0.0/24'], /not a CIDR|not an IP/],
    [['create', 'hostbits', '--subnet', '10.20.0.1/24'], /host bits/],
    [['create', 'tiny', '--subnet', '10.20.0.0/31'], /no room/],
    [['create', 'Bad_Name', '--subnet', '10.20.0.0/24'], /name/],
    [['create', 'x'.repeat(33), '--subnet', '10.20.0.0/24'], /name/],
    [['create', 'vni0', '--subnet', '10.20.0.0/24', '--vni', '0'], /VNI|vni/],
    [['create', 'vnibig', '--subnet', '10.20.0.0/24', '--vni', '16777216'], /VNI|vni/],
    [['create', 'overlap', '--subnet', '10.10.5.0/24'], /overlap/],
    [['create', 'base', '--subnet', '10.30.0.0/24'], /exists|already/],
    [['create', 'dupvni', '--subnet', '10.30.0.0/24', '--vni', '100'], /VNI 100|vni/i],
    [['create', 'nosubnet'], /subnet/],
    [['inspect', 'absent'], /absent|not found|no network/i],
    [['rm', 'absent'], /absent|not found|no network/i],
  ])('refuses %j with one line, a non-zero exit and the store unchanged', (args, re) => {
    const before = list();
    const r = run(args as string[]);
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(re);
    expect(lines[0]).toMatch(/OVN_ERR_/);
    expect(list()).toEqual(before);
  });

  it('accepts IPv6 subnets and shows them', () => {
    expect(run(['create', 'six', '--subnet', 'fd00:77::/64']).status).toBe(0);
    const r = run(['inspect', 'six', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'six', subnet: 'fd00:77::/64' });
    expect(run(['ls']).stdout).toMatch(/six/);
  });

  it('10 concurrent creates get 10 distinct VNIs; one name twice gets one success', async () => {
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => runAsync(['create', `par-${i}`, '--subnet', `10.${100 + i}.0.0/24`, '--json'])));
    expect(rs.map((r) => r.status)).toEqual(Array(10).fill(0));
    const vnis = rs.map((r) => JSON.parse(r.stdout).vni as number);
    expect(new Set(vnis).size).toBe(10);
    const twice = await Promise.all([runAsync(['create', 'same', '--subnet', '10.200.0.0/24']), runAsync(['create', 'same', '--subnet', '10.201.0.0/24'])]);
    expect(twice.map((r) => r.status).sort()).toEqual([0, 1]);
    expect(twice.find((r) => r.status === 1)!.stderr).toMatch(/same/);
  }, 60_000);

  it('rm deletes', () => {
    expect(run(['rm', 'six']).status).toBe(0);
    expect(run(['inspect', 'six']).status).not.toBe(0);
  });
});
