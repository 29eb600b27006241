/**
 * The Vagrant lab's network layout in namespaces, with the agents configured the way
 * scripts/vagrant/provision.sh configures them: each "VM" has a NAT interface first with the
 * same address as every other VM, and the private network second; the provisioning's own
 * interface_with_address picks --advertise-interface, and agents find each other through a
 * Consul-API store on node1 (the embedded store standing in for Consul).
 *
 *   [node1] eth0 10.0.2.15/24 (NAT)   eth1 192.168.56.11/21 --+   store :8500, agent
 *   [node2] eth0 10.0.2.15/24 (NAT)   eth1 192.168.56.12/21 --+-- sw (bridge)   agent
 *   [node3] eth0 10.0.2.15/24 (NAT)   eth1 192.168.56.13/21 --+                 agent
 *   each node: endpoint namespace 10.77.0.1N on ovbr-4242, as vagrant-demo.sh attaches it
 *
 * Unlike the VMs, node2 and node3 reach the store on node1 directly instead of through a
 * local Consul client agent: the agent only sees a Consul HTTP API either way.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Netns, sh, waitFor } from '../helpers/netns.js';
import { AgentProcess, OVNETD_BIN, waitReady } from '../../src/lab/agent-process.js';

const ROOT = resolve(__dirname, '../..');
const LIB = join(ROOT, 'scripts/vagrant/lib.sh');
const NODES = ['192.168.56.11', '192.168.56.12', '192.168.56.13'];
const STORE = 'consul://192.168.56.11:8500';
const VNI = 4242;

interface Vm { ns: Netns; ip: string; agent?: AgentProcess; endpoint?: Netns; endpointIp: string }

describe('the Vagrant lab, as namespaces', () => {
  let dir: string;
  let sw: Netns;
  let store: ChildProcess;
  const vms: Vm[] = [];

  function cli(vm: Vm, args: string[]) {
    return spawnSync('ip', ['netns', 'exec', vm.ns.name, process.execPath, OVNETD_BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  }

  function makeVm(i: number): Vm {
    const vm: Vm = { ns: new Netns(`vg${i}`), ip: NODES[i], endpointIp: `10.77.0.1${i + 1}` };
    // NAT first: a veth whose peer stays in the VM, holding the address every VM has.
    sh(['ip', 'link', 'add', 'eth0', 'netns', vm.ns.name, 'type', 'veth', 'peer', 'name', 'nat0', 'netns', vm.ns.name]);
    vm.ns.ip(['addr', 'add', '10.0.2.15/24', 'dev', 'eth0']);
    vm.ns.ip(['link', 'set', 'eth0', 'up']);
    vm.ns.ip(['link', 'set', 'nat0', 'up']);
    sh(['ip', 'link', 'add', 'eth1', 'netns', vm.ns.name, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', sw.name]);
    sw.ip(['link', 'set', `p${i}`, 'master', 'br0', 'up']);
    vm.ns.ip(['addr', 'add', `${vm.ip}/21`, 'dev', 'eth1']);
    vm.ns.ip(['link', 'set', 'eth1', 'up']);
    return vm;
  }

  /** What provision.sh does: find the interface by address, start the agent with it. */
  async function startAgent(vm: Vm, i: number): Promise<AgentProcess> {
    const r = spawnSync('ip', ['netns', 'exec', vm.ns.name, 'bash', '-c', '. "$0" && interface_with_address "$1"', LIB, vm.ip], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const iface = r.stdout.trim();
    expect(iface).toBe('eth1');
    const d = join(dir, `node${i + 1}`);
    const child = vm.ns.spawn([process.execPath, OVNETD_BIN, 'agent', '--store', STORE, '--advertise-interface', iface,
      '--state-dir', join(d, 'state'), '--control-socket', join(d, 'ovnetd.sock'), '--metrics', 'off', '--log-level', 'warn', '--registration-ttl', '5']);
    const agent = new AgentProcess(child, d);
    vm.agent = agent;
    await waitReady(agent, 15_000);
    return agent;
  }

  /** What `ovnetd attach NETWORK --netns NS --ip IP` will do: a veth from the VM's bridge into a namespace. */
  function attach(vm: Vm, i: number): void {
    const ep = new Netns(`vge${i}`);
    vm.endpoint = ep;
    const mtu = (JSON.parse(vm.ns.ip(['-j', 'link', 'show', `ovbr-${VNI}`])) as { mtu: number }[])[0].mtu;
    sh(['ip', 'link', 'add', 'eth0', 'netns', ep.name, 'type', 'veth', 'peer', 'name', 'vdemo', 'netns', vm.ns.name]);
    vm.ns.ip(['link', 'set', 'vdemo', 'addrgenmode', 'none']);
    vm.ns.ip(['link', 'set', 'vdemo', 'mtu', String(mtu), 'master', `ovbr-${VNI}`, 'up']);
    ep.ip(['link', 'set', 'eth0', 'mtu', String(mtu)]);
    ep.ip(['addr', 'add', `${vm.endpointIp}/24`, 'dev', 'eth0']);
    ep.ip(['link', 'set', 'eth0', 'up']);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ovnetd-vagrant-'));
    sw = new Netns('vgsw');
    sw.ip(['link', 'add', 'br0', 'type', 'bridge']);
    sw.ip(['link', 'set', 'br0', 'up']);
    for (let i = 0; i < NODES.length; i++) vms.push(makeVm(i));
    store = vms[0].ns.spawn([process.execPath, OVNETD_BIN, 'store', 'serve', '--listen', `${NODES[0]}:8500`, '--data', join(dir, 'store'), '--log-level', 'warn']);
    await waitFor(() => spawnSync('ip', ['netns', 'exec', vms[1].ns.name, process.execPath, '-e',
      `fetch('http://${NODES[0]}:8500/v1/status/leader').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`], { timeout: 5000 }).status === 0, 15_000, 'the store');
    await Promise.all(vms.map((vm, i) => startAgent(vm, i)));
  });

  afterAll(async () => {
    await Promise.all(vms.map((vm) => vm.agent?.stop(3000).catch(() => undefined)));
    if (store?.pid && store.exitCode === null) process.kill(store.pid, 'SIGKILL');
    for (const vm of vms) { vm.endpoint?.destroy(); vm.ns.destroy(); }
    sw?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('each agent advertises its private address, never the shared NAT one', async () => {
    for (const vm of vms) {
      const st = await vm.agent!.status();
      expect(st.underlay.address).toBe(vm.ip);
      expect(st.underlay.listen).toBe(vm.ip);
    }
    await waitFor(async () => (await Promise.all(vms.map(async (vm) => (await vm.agent!.status()).peers))).every((n) => n === 2), 10_000, 'every agent seeing 2 peers');
  });

  it('create on node1, attach on each node, every endpoint pings every other', async () => {
    const r = cli(vms[0], ['create', 'demo', '--subnet', '10.77.0.0/24', '--vni', String(VNI), '--store', STORE]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await waitFor(() => vms.every((vm) => /ovbr-4242/.test(vm.ns.ip(['-br', 'link']))), 10_000, 'devices on every node');
    vms.forEach((vm, i) => attach(vm, i));
    for (const from of vms) {
      for (const to of vms) {
        if (to === from) continue;
        const out = from.endpoint!.exec(['ping', '-c', '2', '-i', '0.2', '-W', '2', to.endpointIp], { timeoutMs: 30_000 });
        expect(out, `${from.ip} -> ${to.endpointIp}`).toMatch(/2 received/);
      }
    }
  });
});
