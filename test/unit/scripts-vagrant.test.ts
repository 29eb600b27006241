/**
 * The Vagrant provisioning's logic, run here rather than in VMs: the interface choice in a
 * namespace laid out like a Vagrant VM, the Consul configuration per role, and
 * scripts/vagrant-demo.sh against stand-ins for `vagrant ssh`, sudo, ip and ovnetd that only
 * record what they are asked (so the script's quoting is exercised end to end).
 *
 *   [ns "VM"]  eth0 10.0.2.15/24 (NAT, the same on every VM)   <- first interface
 *              eth1 192.168.56.12/21 + 192.168.56.99/21           <- the private network
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Netns, sh } from '../helpers/netns.js';

const ROOT = resolve(__dirname, '../..');
const LIB = join(ROOT, 'scripts/vagrant/lib.sh');

/** Runs `. lib.sh; FN ARGS...` with bash (inside `ns` when given). */
function libCall(fn: string, args: string[], ns?: Netns): { status: number | null; stdout: string; stderr: string } {
  const argv = ['bash', '-c', `. "$0" && ${fn} "$@"`, LIB, ...args];
  const r = ns ? spawnSync('ip', ['netns', 'exec', ns.name, ...argv], { encoding: 'utf8' }) : spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('interface_with_address (the --advertise-interface of each VM)', () => {
  let vm: Netns;
  beforeAll(() => {
    vm = new Netns('vgif');
    // Both ends of each pair stay inside the namespace: eth0 is made first, as Vagrant's NAT is.
    for (const [dev, peer] of [['eth0', 'nat0'], ['eth1', 'sw0']]) {
      sh(['ip', 'link', 'add', dev, 'netns', vm.name, 'type', 'veth', 'peer', 'name', peer, 'netns', vm.name]);
      vm.ip(['link', 'set', dev, 'up']);
    }
    vm.ip(['addr', 'add', '10.0.2.15/24', 'dev', 'eth0']);
    vm.ip(['addr', 'add', '192.168.56.12/21', 'dev', 'eth1']);
    vm.ip(['addr', 'add', '192.168.56.99/21', 'dev', 'eth1']);
  });
  afterAll(() => { vm?.destroy(); });

  it('picks the private-network interface by its address, not the first (NAT) one', () => {
    const r = libCall('interface_with_address', ['192.168.56.12'], vm);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ status: 0, stdout: 'eth1\n' });
    expect(libCall('interface_with_address', ['192.168.56.99'], vm).stdout).toBe('eth1\n');
    expect(libCall('interface_with_address', ['10.0.2.15'], vm).stdout).toBe('eth0\n');
  });

  it('fails with a message when no interface holds the address (no prefix matches either)', () => {
    for (const ip of ['192.168.56.13', '192.168.56.1', '10.0.2.1']) {
      const r = libCall('interface_with_address', [ip], vm);
      expect(r.status, ip).toBe(1);
      expect(r.stdout, ip).toBe('');
      expect(r.stderr, ip).toMatch(new RegExp(`no interface holds ${ip.replaceAll('.', '\\.')}`));
    }
  });
});

describe('consul_config', () => {
  const hcl = (role: string, ip: string) => {
    const r = libCall('consul_config', [role, ip, '192.168.56.11']);
    expect(r.status).toBe(0);
    return r.stdout;
  };

  it('node1 bootstraps a one-server cluster, gossiping on its private address', () => {
    const s = hcl('server', '192.168.56.11');
    expect(s).toMatch(/^server\s*=\s*true$/m);
    expect(s).toMatch(/^bootstrap_expect\s*=\s*1$/m);
    expect(s).toMatch(/^bind_addr\s*=\s*"192\.168\.56\.11"$/m);
    expect(s).toMatch(/^client_addr\s*=\s*"127\.0\.0\.1"$/m);
    expect(s).not.toMatch(/retry_join/);
  });

  it('node2 and node3 are clients joining node1, gossiping on their own private address', () => {
    const c = hcl('client', '192.168.56.13');
    expect(c).toMatch(/^retry_join\s*=\s*\["192\.168\.56\.11"\]$/m);
    expect(c).toMatch(/^bind_addr\s*=\s*"192\.168\.56\.13"$/m);
    expect(c).not.toMatch(/^server|bootstrap/m);
  });
});

describe('scripts/vagrant-demo.sh', () => {
  let dir: string;
  let log: string;

  const STUBS: Record<string, string> = {
    // vagrant ssh NODE -c COMMAND -- -q: run COMMAND as the VM's login shell would, as NODE.
    vagrant: '[ "$1" = ssh ] && [ "$3" = -c ] || exit 64\nexport NODE=$2\nexec bash -c "$4"',
    sudo: 'exec "$@"',
    ovnetd: 'echo "$NODE ovnetd $*" >>"$LOG"\n[ "$1" != inspect ]',
    // `ip netns exec NS ip -4 -o addr show` prints nothing (not attached yet); ping fails only for $FAIL.
    ip: 'echo "$NODE ip $*" >>"$LOG"\ncase "$*" in *ping*) [ "$NODE ${*: -1}" != "$FAIL" ] ;; esac',
  };

  function run(fail = ''): { status: number | null; stdout: string; lines: string[] } {
    writeFileSync(log, '');
    const r = spawnSync('bash', [join(ROOT, 'scripts/vagrant-demo.sh')], {
      encoding: 'utf8', timeout: 30_000,
      env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, LOG: log, FAIL: fail },
    });
    return { status: r.status, stdout: r.stdout + r.stderr, lines: readFileSync(log, 'utf8').trim().split('\n') };
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ovnetd-demo-'));
    log = join(dir, 'log');
    mkdirSync(join(dir, 'bin'));
    for (const [name, body] of Object.entries(STUBS)) {
      writeFileSync(join(dir, 'bin', name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(dir, 'bin', name), 0o755);
    }
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('creates the network once, attaches a namespace on each VM, pings every pair', () => {
    const r = run();
    expect(r.status, r.stdout).toBe(0);
    expect(r.lines.filter((l) => / ovnetd create /.test(l))).toEqual(['node1 ovnetd create demo --subnet 10.77.0.0/24']);
    const ips = { node1: '10.77.0.11', node2: '10.77.0.12', node3: '10.77.0.13' };
    for (const [node, ip] of Object.entries(ips)) {
      expect(r.lines).toContain(`${node} ip netns add ovdemo`);
      expect(r.lines).toContain(`${node} ovnetd attach demo --netns ovdemo --ip ${ip}`);
      for (const [other, otherIp] of Object.entries(ips)) {
        const pinged = r.lines.some((l) => l.startsWith(`${node} ip netns exec ovdemo ping `) && l.endsWith(` ${otherIp}`));
        expect(pinged, `${node} -> ${other}`).toBe(node !== other);
      }
    }
    expect(r.stdout).toMatch(/all endpoints reach each other/);
  });

  it('exits non-zero and names the pair when a ping fails', () => {
    const r = run('node3 10.77.0.11');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+node3 -> node1 \(10\.77\.0\.11\)/);
    expect(r.stdout).toMatch(/ok\s+node1 -> node3/);
  });
});
