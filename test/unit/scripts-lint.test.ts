/**
 * Static checks of the operations files: every shell script under scripts/ passes bash -n and
 * shellcheck (with scripts/.shellcheckrc), and the Vagrantfile parses (ruby -c) and, run against
 * a recording stand-in for Vagrant, defines the three VMs docs/vagrant.md describes.
 * .ci/run installs shellcheck and ruby; a machine without them skips and says why, CI fails.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

function missing(tool: string): boolean {
  return spawnSync(tool, ['--version']).status !== 0 && !process.env.CI;
}
const title = (t: string, tool: string) => (missing(tool) ? `${t} (skipped: ${tool} is not installed)` : t);

function shellScripts(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? shellScripts(p) : p.endsWith('.sh') ? [relative(ROOT, p)] : [];
  });
}

/** Loads the Vagrantfile with Vagrant.configure replaced by a recorder; prints what it set. */
const VAGRANT_STUB = `
require 'json'
class Rec
  def initialize(log, path)
    @log = log
    @path = path
  end
  def method_missing(name, *args, **kw, &blk)
    n = name.to_s
    if n.end_with?('=')
      @log << { 'path' => (@path + [n.chomp('=')]).join('.'), 'value' => args[0] }
      return args[0]
    end
    key = blk && !args.empty? ? "#{n}(#{args[0]})" : n
    @log << { 'path' => (@path + [n]).join('.'), 'args' => args, 'kw' => kw } unless args.empty? && kw.empty?
    child = Rec.new(@log, @path + [key])
    blk&.call(child)
    child
  end
  def respond_to_missing?(*)
    true
  end
end
module Vagrant
  def self.configure(_version)
    yield Rec.new($log, [])
  end
end
$log = []
load ARGV[0]
puts JSON.generate($log)
`;

interface Rec { path: string; value?: unknown; args?: unknown[]; kw?: Record<string, string> }

describe('scripts', () => {
  const scripts = shellScripts(join(ROOT, 'scripts'));

  it('has the scripts the operations docs name', () => {
    for (const s of ['scripts/install.sh', 'scripts/vagrant-demo.sh', 'scripts/vagrant/provision.sh', 'scripts/vagrant/lib.sh']) expect(scripts).toContain(s);
  });

  it('every script parses (bash -n)', () => {
    for (const s of scripts) {
      const r = spawnSync('bash', ['-n', s], { cwd: ROOT, encoding: 'utf8' });
      expect(r.stderr, s).toBe('');
      expect(r.status, s).toBe(0);
    }
  });

  it.skipIf(missing('shellcheck'))(title('shellcheck passes on every script', 'shellcheck'), () => {
    const r = spawnSync('shellcheck', scripts, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('Vagrantfile', () => {
  const file = join(ROOT, 'Vagrantfile');

  it.skipIf(missing('ruby'))(title('ruby -c accepts it', 'ruby'), () => {
    const r = spawnSync('ruby', ['-c', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('Syntax OK');
    expect(r.status).toBe(0);
  });

  it.skipIf(missing('ruby'))(title('defines node1-3 on 192.168.56.0/21, each provisioned with its Consul role', 'ruby'), () => {
    const r = spawnSync('ruby', ['-e', VAGRANT_STUB, file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const log = JSON.parse(r.stdout) as Rec[];
    expect(log.find((e) => e.path === 'vm.box')?.value).toBe('debian/bookworm64');
    const nodes = [['node1', '192.168.56.11', 'server'], ['node2', '192.168.56.12', 'client'], ['node3', '192.168.56.13', 'client']];
    expect(log.filter((e) => e.path === 'vm.define').map((e) => e.args![0])).toEqual(nodes.map((n) => n[0]));
    for (const [name, ip, role] of nodes) {
      const at = (p: string) => log.filter((e) => e.path === `vm.define(${name}).vm.${p}`);
      expect(at('hostname')[0]?.value).toBe(name);
      const net = at('network')[0];
      expect(net?.args).toEqual(['private_network']);
      expect(net?.kw).toEqual({ ip, netmask: '255.255.248.0' });
      const inline = String(at('provision')[0]?.kw?.inline);
      const m = /^bash \/vagrant\/(\S+) (\S+) (\S+) (\S+) \/vagrant$/.exec(inline);
      expect(m, inline).not.toBeNull();
      expect(existsSync(join(ROOT, m![1]))).toBe(true);
      expect([m![2], m![3], m![4]]).toEqual([role, ip, '192.168.56.11']);
    }
  });
});
