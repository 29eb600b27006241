/**
 * The agent's systemd notifications (src/daemon/systemd.ts) as systemd would receive them: a
 * unix datagram socket stands in for NOTIFY_SOCKET, and the agent runs in a lab namespace with
 * NOTIFY_SOCKET and WATCHDOG_USEC set, as Type=notify with WatchdogSec= starts it.
 *
 *   python3: unix datagram socket  <-- READY=1, WATCHDOG=1 ..., STOPPING=1 --  [h1: agent]
 *
 * The first block checks the notifier's logic with a fake sender and fake timers.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeLab, type Lab } from '../helpers/lab.js';
import { waitFor } from '../helpers/netns.js';
import { startAgent } from '../../src/lab/agent-process.js';
import { ServiceNotifier, watchdogIntervalMs } from '../../src/daemon/systemd.js';

describe('ServiceNotifier', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('derives the ping period from WATCHDOG_USEC and WATCHDOG_PID as sd_watchdog_enabled does', () => {
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
    for (const bad of ['', '0', 'abc', '-5', '1.5']) expect(watchdogIntervalMs({ WATCHDOG_USEC: bad }, 42), bad).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '1' }, 42)).toBe(1);
  });

  it('READY=1 with STATUS, pings every half period, STOPPING=1 ends the pings', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const n = new ServiceNotifier({ env: { WATCHDOG_USEC: '2000000' }, pid: 7, send: (m) => { sent.push(m); return true; } });
    expect(n.watchdogMs).toBe(1000);
    n.ready('forwarding: 1 networks\nbogus=1');
    expect(sent).toEqual(['READY=1\nSTATUS=forwarding: 1 networks bogus=1', 'WATCHDOG=1']);
    vi.advanceTimersByTime(3000);
    expect(sent.filter((m) => m === 'WATCHDOG=1')).toHaveLength(4);
    n.status('store degraded');
    n.stopping();
    n.stopping();
    vi.advanceTimersByTime(5000);
    n.ready('again');
    n.status('after stop');
    expect(sent.slice(-2)).toEqual(['STATUS=store degraded', 'STOPPING=1\nSTATUS=stopping']);
    expect(sent.filter((m) => m === 'WATCHDOG=1')).toHaveLength(4);
  });

  it('sends no pings without a watchdog, and nothing at all outside systemd', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const n = new ServiceNotifier({ env: {}, send: (m) => { sent.push(m); return true; } });
    n.ready('ok');
    vi.advanceTimersByTime(60_000);
    expect(sent).toEqual(['READY=1\nSTATUS=ok']);
    // The real sender with no NOTIFY_SOCKET: a no-op that never throws.
    expect(() => { const q = new ServiceNotifier({ env: {} }); q.ready('x'); q.stopping(); }).not.toThrow();
  });

  it('the ping timer does not keep a finished process alive', () => {
    const hooks = pathToFileURL(resolve(__dirname, '../fixtures/native-ts-hooks.mjs')).href;
    const mod = pathToFileURL(resolve(__dirname, '../../src/daemon/systemd.ts')).href;
    const script = `import { register } from 'node:module'; register(${JSON.stringify(hooks)});
      const { ServiceNotifier } = await import(${JSON.stringify(mod)});
      const n = new ServiceNotifier({ env: { WATCHDOG_USEC: '200000' }, send: () => true });
      n.ready('x'); console.log('armed', n.watchdogMs);`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('armed 100');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});

/** Receives notification datagrams the way systemd's NOTIFY_SOCKET does; one JSON line each. */
const RECEIVER = `
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
print(json.dumps({"bound": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"t": time.monotonic(), "msg": data.decode()}), flush=True)
`;

interface Notification { t: number; fields: Record<string, string> }

class Receiver {
  readonly path: string;
  readonly got: Notification[] = [];
  readonly child: ChildProcess;
  #buf = '';
  #bound = false;

  constructor(path: string) {
    this.path = path;
    this.child = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout!.on('data', (d: Buffer) => this.#take(d.toString()));
  }

  #take(text: string): void {
    this.#buf += text;
    let nl;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(this.#buf.slice(0, nl)) as { bound?: boolean; t: number; msg: string };
      this.#buf = this.#buf.slice(nl + 1);
      if (line.bound) { this.#bound = true; continue; }
      const fields = Object.fromEntries(line.msg.split('\n').filter(Boolean).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
      this.got.push({ t: line.t * 1000, fields });
    }
  }

  ready(): Promise<void> {
    return waitFor(() => this.#bound, 10_000, 'the notification receiver');
  }

  index(key: string, from = 0): number {
    return this.got.findIndex((n, i) => i >= from && key in n.fields);
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.pid) process.kill(this.child.pid, 'SIGKILL');
  }
}

describe('agent notifications over NOTIFY_SOCKET', () => {
  let lab: Lab;
  const receivers: Receiver[] = [];
  // Each test has its own host, so a failure in one leaves nothing in the other's way.
  const config = (host: number) => ({ advertise: `192.168.77.${host}`, networks: [{ name: 'demo', vni: 42 }], peers: [`192.168.77.${3 - host}`], logLevel: 'warn' });

  async function receiver(name: string): Promise<Receiver> {
    const r = new Receiver(join(lab.dir, name));
    receivers.push(r);
    await r.ready();
    return r;
  }

  beforeAll(() => { lab = makeLab(2); });
  afterAll(async () => {
    for (const r of receivers) r.stop();
    await lab?.destroy();
  });

  it('READY=1 once forwarding, WATCHDOG=1 every half WATCHDOG_USEC, STOPPING=1 and exit 0 on SIGTERM', async () => {
    const rx = await receiver('notify-1.sock');
    const agent = await startAgent(lab.topo, 1, { dir: join(lab.dir, 'a1'), config: config(1), env: { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: '1000000' } });
    lab.agents.push(agent);
    await waitFor(() => rx.index('READY') >= 0, 5000, 'READY=1');
    const ready = rx.got[rx.index('READY')];
    expect(ready.fields.READY).toBe('1');
    expect(ready.fields.STATUS).toMatch(/\S/);
    // Ready means forwarding: the devices exist and the control socket answers.
    expect(lab.topo.exec(lab.topo.hostNs(1), ['ip', '-br', 'link', 'show', 'ovtap-42'])).toMatch(/ovtap-42/);
    expect((await agent.status()).networks.map((n) => n.vni)).toEqual([42]);

    await new Promise((r) => setTimeout(r, 3000));
    const pings = rx.got.slice(rx.index('READY')).filter((n) => n.fields.WATCHDOG === '1');
    // 3 s at one ping per 500 ms (half of 1 s): about 7; a loaded machine delays timers, never hastens them.
    expect(pings.length).toBeGreaterThanOrEqual(4);
    expect(pings.length).toBeLessThanOrEqual(8);
    const gaps = pings.slice(1).map((p, i) => p.t - pings[i].t).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)];
    // Half the period, not the full period (1000 ms), at which systemd would already have fired.
    expect(median).toBeGreaterThan(400);
    expect(median).toBeLessThan(800);

    expect(await agent.stop()).toBe(0);
    await waitFor(() => rx.index('STOPPING') >= 0, 2000, 'STOPPING=1');
    const stopAt = rx.index('STOPPING');
    expect(rx.got[stopAt].fields.STOPPING).toBe('1');
    expect(rx.got.slice(stopAt + 1).filter((n) => 'WATCHDOG' in n.fields)).toEqual([]);
  });

  it('no WATCHDOG=1 when WATCHDOG_PID names another process', async () => {
    const rx = await receiver('notify-2.sock');
    const agent = await startAgent(lab.topo, 2, { dir: join(lab.dir, 'a2'), config: config(2), env: { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' } });
    lab.agents.push(agent);
    await waitFor(() => rx.index('READY') >= 0, 5000, 'READY=1');
    await new Promise((r) => setTimeout(r, 1000));
    expect(rx.got.filter((n) => 'WATCHDOG' in n.fields)).toEqual([]);
    expect(await agent.stop()).toBe(0);
    await waitFor(() => rx.index('STOPPING') >= 0, 2000, 'STOPPING=1');
  });
});
