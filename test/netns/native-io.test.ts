/**
 * The native I/O layer against the real kernel.
 *
 *  UDP (loopback only, 127.0.0.1 and ::1):
 *    [ tx: NativeUnderlayPort, pool of 4 source ports ] --sendmmsg--> [ rx: NativeUnderlayPort ]
 *
 *  TAP (inside a namespace made here; the TAP never exists in the root namespace):
 *    vitest --spawn--> ip netns exec NS node test/fixtures/native-tap-child.mjs
 *      [ child: NativeTapPort ] --fd-- [ ovtap-xxxxxx PREFIX.1/24 ] -- kernel ARP/ICMP of NS
 *    the child reports what it saw as JSON; the assertions are here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { HEADROOM, PacketBatch, PacketList } from '../../src/dataplane/ports.js';
import { isOvnError } from '../../src/lib/errors.js';
import { NativeTapPort } from '../../src/io/tap-port.js';
import { NativeUnderlayPort } from '../../src/io/udp-port.js';
import { sdNotify } from '../../src/io/notify.js';
import { Netns, cleanupNetns, uniq, waitFor } from '../helpers/netns.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const opened: { close(): void }[] = [];
afterAll(() => {
  for (const p of opened) p.close();
  cleanupNetns();
});

function track<T extends { close(): void }>(p: T): T {
  opened.push(p);
  return p;
}

interface Received {
  bytes: Buffer;
  src: number[];
  srcPort: number;
}

/** Starts `port` and collects copies of everything it delivers (test code, not a hot path). */
function collect(port: NativeUnderlayPort, batch: PacketBatch): Received[] {
  const got: Received[] = [];
  port.start(batch, (b) => {
    for (let i = 0; i < b.count; i++) {
      const at = b.packetOffset(i);
      got.push({
        bytes: Buffer.from(b.buf.subarray(at, at + b.len[i])),
        src: Array.from(b.srcAddr.subarray(4 * i, 4 * i + 4)),
        srcPort: b.srcPort[i],
      });
    }
  });
  return got;
}

/** A list over one buffer: datagram i has payloads[i] at its own offset. */
function listOf(payloads: Buffer[], peer: number[], flow: number[]): PacketList {
  const list = new PacketList(payloads.length);
  list.reset(Buffer.concat(payloads));
  let at = 0;
  payloads.forEach((p, i) => {
    list.off[i] = at;
    list.len[i] = p.length;
    list.peer[i] = peer[i];
    list.flow[i] = flow[i];
    at += p.length;
  });
  list.count = payloads.length;
  return list;
}

const families = [
  { family: 'IPv4', address: '127.0.0.1', words: [0, 0, 0xffff, 0x7f000001] },
  { family: 'IPv6', address: '::1', words: [0, 0, 0, 1] },
];

describe.each(families)('UDP underlay on $family loopback', ({ address, words }) => {
  it('delivers batches of assorted sizes with source address and a pooled source port per flow', async () => {
    const rx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 0 }));
    const tx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 4 }));
    const pool = tx.sourcePorts();
    expect(pool).toHaveLength(4);
    expect(new Set(pool).size).toBe(4);
    for (const p of pool) expect(p >= 49152 && p <= 65535).toBe(true);
    expect(rx.localPort).toBeGreaterThan(0);
    expect(rx.stats().rcvbuf).toBeGreaterThan(0);

    tx.setPeer(7, address, rx.localPort);
    const got = collect(rx, new PacketBatch(64, 2048));
    const maxPayload = 2048 - HEADROOM;
    const sizes = [1, 14, 60, 64, 512, 1000, 1400, 1500, maxPayload, 333, 2, 999];
    const payloads = sizes.map((n) => randomBytes(n));
    const flows = sizes.map((_, i) => (i * 7919) & 0xffff);
    const list = listOf(payloads, sizes.map(() => 7), flows);
    expect(tx.send(list)).toBe(sizes.length);

    await waitFor(() => got.length === sizes.length, 5000, 'all datagrams');
    // Datagrams leave grouped by source socket, so match by content, not order.
    payloads.forEach((p, i) => {
      const r = got.find((g) => g.bytes.equals(p));
      expect(r, `datagram ${i} (${p.length} bytes)`).toBeDefined();
      expect(r!.src).toEqual(words);
      expect(r!.srcPort).toBe(pool[flows[i] % pool.length]);
    });
    expect(rx.stats().rx).toMatchObject({ packets: sizes.length, truncated: 0, errors: 0 });
    expect(tx.stats().tx).toMatchObject({ packets: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0), errors: 0 });
  });

  it('keeps one flow on one source port across batches and spreads flows over the pool', async () => {
    const rx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 0 }));
    const tx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 4 }));
    tx.setPeer(0, address, rx.localPort);
    const got = collect(rx, new PacketBatch(32, 256));
    for (let round = 0; round < 3; round++) {
      expect(tx.send(listOf([randomBytes(40), randomBytes(41)], [0, 0], [4242, 4242]))).toBe(2);
    }
    await waitFor(() => got.length === 6, 5000, 'six datagrams');
    expect(new Set(got.map((g) => g.srcPort)).size).toBe(1);
    expect(got[0].srcPort).toBe(tx.sourcePorts()[4242 % 4]);

    got.length = 0;
    expect(tx.send(listOf([0, 1, 2, 3].map(() => randomBytes(20)), [0, 0, 0, 0], [0, 1, 2, 3]))).toBe(4);
    await waitFor(() => got.length === 4, 5000, 'four datagrams');
    expect(new Set(got.map((g) => g.srcPort))).toEqual(new Set(tx.sourcePorts()));
  });

  it('sends from the listening port when the pool is empty', async () => {
    const rx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 0 }));
    const tx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 0 }));
    expect(tx.sourcePorts()).toEqual([]);
    tx.setPeer(3, address, rx.localPort);
    const got = collect(rx, new PacketBatch(8, 256));
    expect(tx.send(listOf([randomBytes(10)], [3], [999]))).toBe(1);
    await waitFor(() => got.length === 1, 5000, 'one datagram');
    expect(got[0].srcPort).toBe(tx.localPort);
  });

  it('drops and counts datagrams larger than a slot, keeping the rest in order', async () => {
    const rx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 0 }));
    const tx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 0 }));
    tx.setPeer(1, address, rx.localPort);
    const got = collect(rx, new PacketBatch(8, 256));
    const small1 = randomBytes(100);
    const big = randomBytes(1000);
    const small2 = randomBytes(256 - HEADROOM);
    expect(tx.send(listOf([small1, big, small2], [1, 1, 1], [0, 0, 0]))).toBe(3);
    await waitFor(() => rx.stats().rx.truncated === 1 && got.length === 2, 5000, 'truncation counted');
    expect(got.map((g) => g.bytes)).toEqual([small1, small2]);
    expect(rx.stats().rx.packets).toBe(2);
  });

  it('counts unknown, cleared and negative peer indexes as errors without throwing', async () => {
    const rx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 0 }));
    const tx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 2 }));
    tx.setPeer(5, address, rx.localPort);
    tx.setPeer(6, address, rx.localPort);
    tx.clearPeer(6);
    const got = collect(rx, new PacketBatch(8, 256));
    const payloads = [0, 1, 2, 3].map(() => randomBytes(30));
    expect(tx.send(listOf(payloads, [99, 5, 6, -1], [1, 2, 3, 4]))).toBe(1);
    expect(tx.stats().tx).toMatchObject({ packets: 1, errors: 3 });
    await waitFor(() => got.length === 1, 5000, 'the one good datagram');
    expect(got[0].bytes).toEqual(payloads[1]);
  });

  it('rejects a peer of the other address family and sends nothing after close', () => {
    const tx = track(NativeUnderlayPort.open({ address, port: 0, srcPorts: 1 }));
    const other = address === '::1' ? '127.0.0.1' : '::1';
    expect(() => tx.setPeer(0, other, 4789)).toThrow(expect.objectContaining({ code: 'OVN_ERR_INVALID' }));
    tx.setPeer(0, address, 9);
    tx.close();
    tx.close();
    expect(tx.send(listOf([randomBytes(10)], [0], [0]))).toBe(0);
  });
});

describe('TAP device inside a network namespace', () => {
  it('reads frames the kernel sends, writes frames it receives, and vanishes on close', async () => {
    const ns = new Netns('ntap');
    const name = `ovtap-${uniq()}`;
    const name2 = `ovtap-${uniq()}`;
    const prefix = `10.201.${randomBytes(1)[0]}`;
    const child = ns.spawn([process.execPath, path.join(ROOT, 'test/fixtures/native-tap-child.mjs'), name, name2, prefix], {
      cwd: ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    const r = JSON.parse(stdout);
    const mac = (r.mac as string).replaceAll(':', '');
    const neighbour = '020000aabbcc';
    const frames = (r.frames as string[]).map((h) => Buffer.from(h, 'hex'));

    expect(r.name).toBe(name);
    expect(r.errors.secondOpen).toMatchObject({ code: 'OVN_ERR_NATIVE', errno: 'EBUSY' });
    expect(r.errors.secondOpen.message).toContain('TUNSETIFF');
    expect(r.errors.secondOpen.message).toContain('EBUSY');

    // Every delivered frame is Ethernet sent by the TAP's own MAC, within the slot.
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) {
      expect(f.length).toBeGreaterThanOrEqual(14);
      expect(f.length).toBeLessThanOrEqual(256 - HEADROOM);
      expect(f.subarray(6, 12).toString('hex')).toBe(mac);
    }
    const ethType = (f: Buffer) => f.readUInt16BE(12);
    const arp = frames.filter((f) => ethType(f) === 0x0806);
    for (const f of arp) expect(f.length).toBe(42);
    // The ARP request we wrote was answered: a reply to the neighbour's MAC, from PREFIX.1.
    const reply = arp.find((f) => f.readUInt16BE(20) === 2);
    expect(r.gotArpReply).toBe(true);
    expect(reply!.subarray(0, 6).toString('hex')).toBe(neighbour);
    expect(Array.from(reply!.subarray(28, 32)).join('.')).toBe(`${prefix}.1`);
    expect(r.neigh).toContain('02:00:00:aa:bb:cc');
    // Pinging a missing host made the kernel broadcast ARP requests for it.
    const requests = arp.filter((f) => f.readUInt16BE(20) === 1 && f.subarray(0, 6).equals(Buffer.alloc(6, 0xff)));
    expect(requests.length).toBeGreaterThan(0);
    expect(Array.from(requests[0].subarray(38, 42)).join('.')).toBe(`${prefix}.3`);
    // A default ping to the neighbour fits a slot (98 bytes); the 400-byte one does not.
    const echo = frames.find((f) => ethType(f) === 0x0800 && f[23] === 1 && f.subarray(0, 6).toString('hex') === neighbour);
    expect(echo?.length).toBe(98);
    expect(r.stats.rx.truncated).toBeGreaterThanOrEqual(1);
    expect(r.stats.rx.packets).toBe(frames.length);
    expect(r.stats.rx.bytes).toBe(frames.reduce((a, f) => a + f.length, 0));
    expect(r.batches).toBeGreaterThan(0);

    expect(r.written).toBe(1);
    expect(r.stats.tx).toMatchObject({ packets: 1, bytes: 42, errors: 0 });
    expect(r.linkStats.rx.packets).toBeGreaterThanOrEqual(1);

    expect(r.vanished).toBe(true);
    expect(r.writeAfterClose).toBe(0);
    expect(r.info2.info_data).toMatchObject({ type: 'tap', pi: false, vnet_hdr: true, multi_queue: true, numqueues: 2, persist: false });
    expect(r.errors.queueMismatch).toMatchObject({ code: 'OVN_ERR_NATIVE', errno: 'EINVAL' });
    expect(r.aliveWithOneQueue).toBe(true);
    expect(r.vanished2).toBe(true);
    expect(() => ns.ip(['link', 'show', 'dev', name])).toThrow();
    ns.destroy();
  });
});

describe('open errors', () => {
  function openError(fn: () => unknown): { code: string; message: string } {
    try {
      fn();
    } catch (e) {
      if (isOvnError(e)) return { code: e.code, message: e.message };
      throw e;
    }
    throw new Error('expected an error');
  }

  // Each of these fails before TUNSETIFF, so nothing is created in the root namespace.
  it('rejects TAP names the kernel cannot take', () => {
    const long = openError(() => NativeTapPort.open('ovtap-name-far-too-long'));
    expect(long.code).toBe('OVN_ERR_INVALID');
    expect(long.message).toMatch(/ovtap-name-far-too-long.*1\.\.15 characters/);
    expect(openError(() => NativeTapPort.open('')).code).toBe('OVN_ERR_INVALID');
  });

  it('explains bad underlay addresses, ports and busy ports', () => {
    const bad = openError(() => NativeUnderlayPort.open({ address: 'not-an-ip', port: 0 }));
    expect(bad).toMatchObject({ code: 'OVN_ERR_INVALID' });
    expect(bad.message).toContain('numeric IPv4 or IPv6');
    expect(openError(() => NativeUnderlayPort.open({ address: '127.0.0.1', port: 70000 })).code).toBe('OVN_ERR_INVALID');
    expect(openError(() => NativeUnderlayPort.open({ address: '127.0.0.1', port: 0, srcPorts: 100000 })).code).toBe(
      'OVN_ERR_INVALID',
    );

    const first = track(NativeUnderlayPort.open({ address: '127.0.0.1', port: 0, srcPorts: 0 }));
    const busy = openError(() => NativeUnderlayPort.open({ address: '127.0.0.1', port: first.localPort }));
    expect(busy.code).toBe('OVN_ERR_NATIVE');
    expect(busy.message).toMatch(/bind failed: EADDRINUSE/);
    // 192.0.2.1 (TEST-NET-1) is not an address of this host: bind fails, nothing is sent.
    const foreign = openError(() => NativeUnderlayPort.open({ address: '192.0.2.1', port: 0 }));
    expect(foreign.message).toContain('EADDRNOTAVAIL');
  });
});

describe('sdNotify', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovnet-notify-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A python3 unix datagram receiver (Node has none); resolves with the first datagram. */
  async function receiver(address: string): Promise<{ ready: Promise<void>; message: Promise<string> }> {
    const script =
      'import socket,sys\n' +
      'a=sys.argv[1]\n' +
      "a='\\0'+a[1:] if a.startswith('@') else a\n" +
      's=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.bind(a); s.settimeout(10)\n' +
      "print('bound',flush=True)\n" +
      "print(s.recv(4096).decode(),flush=True)\n";
    const p = spawn('python3', ['-c', script, address], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const ready = new Promise<void>((resolve) =>
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.startsWith('bound\n')) resolve();
      }),
    );
    const message = new Promise<string>((resolve) => p.once('exit', () => resolve(out.slice('bound\n'.length).trim())));
    return { ready, message };
  }

  it.each([
    ['a socket path', () => path.join(dir, 'notify.sock')],
    ['an abstract name', () => `@ovnet-test-${uniq()}`],
  ])('delivers one datagram to %s', async (_what, where) => {
    const address = where();
    const r = await receiver(address);
    await r.ready;
    expect(sdNotify('READY=1\nSTATUS=testing', { NOTIFY_SOCKET: address })).toBe(true);
    expect(await r.message).toBe('READY=1\nSTATUS=testing');
  });

  it('is a no-op without NOTIFY_SOCKET and reports an unreachable socket', () => {
    expect(sdNotify('READY=1', {})).toBe(false);
    expect(sdNotify('READY=1', { NOTIFY_SOCKET: path.join(dir, 'nobody-here') })).toBe(false);
  });
});
