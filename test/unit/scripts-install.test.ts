/**
 * scripts/install.sh for real, twice, in a sandbox: a private mount namespace whose /etc, /opt,
 * /usr/local and /var are overlays on the machine's own (writes land in a temp dir and vanish
 * with the namespace), and whose /run/systemd is empty, so install.sh sees no running systemd
 * and reloads nothing. It installs from a snapshot of this tree as built (--prebuilt), so the
 * test needs no network; the npm ci path runs in the Vagrant VMs (docs/vagrant.md).
 * Checks: the user, the package (root's alone, dev packages pruned), the link, the config, the
 * unit (and `systemd-analyze verify` of it at its installed path, ExecStart existing), and that
 * the second run changes nothing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildConfig } from '../../src/daemon/config.js';

const ROOT = resolve(__dirname, '../..');
const INSTALL = join(ROOT, 'scripts/install.sh');
const isRoot = process.getuid?.() === 0;
const skip = !isRoot && !process.env.CI;
const haveAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** Runs "$@" with the machine's system directories overlaid (argv: TMP CMD...). */
const SANDBOX = `set -euo pipefail
T=$1; shift
for d in /etc /opt /usr/local /var; do
  n=$(printf '%s' "$d" | tr / _)
  mkdir -p "$T/up$n" "$T/work$n"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$T/up$n,workdir=$T/work$n" "$d"
done
if [ -d /run/systemd ]; then mount -t tmpfs tmpfs /run/systemd; fi
exec "$@"`;

/** Run inside the sandbox; prints "== name" sections the test reads. */
const SCENARIO = `set -uo pipefail
SRC=$1
echo "== run1"; "$SRC/scripts/install.sh" --source "$SRC" --prebuilt --store consul://127.0.0.1:8500 --advertise-interface eth1 2>&1; echo "rc=$?"
echo "== passwd"; getent passwd ovnetd
echo "== link"; readlink /usr/local/bin/ovnetd
echo "== version"; /usr/local/bin/ovnetd --version 2>&1
echo "== config"; stat -c '%a %U %G' /etc/ovnetd/agent.json; cat /etc/ovnetd/agent.json
echo "== unit"; cmp /etc/systemd/system/ovnetd.service "$SRC/scripts/ovnetd.service" && echo same
echo "== foreign"; find /opt/ovnetd ! -type l \\( ! -user root -o ! -group root -o -perm -o+w \\) -print | head -3
echo "== devdeps"; if [ -e /opt/ovnetd/node_modules/vitest ]; then echo present; else echo pruned; fi
echo "== verify"; if command -v systemd-analyze >/dev/null; then (cd / && systemd-analyze verify /etc/systemd/system/ovnetd.service 2>&1); echo "rc=$?"; fi
echo "== run2"; "$SRC/scripts/install.sh" --source "$SRC" --prebuilt 2>&1; echo "rc=$?"
echo "== users"; grep -c '^ovnetd:' /etc/passwd
`;

function sections(out: string): Record<string, string> {
  const res: Record<string, string> = {};
  for (const part of out.split(/^== /m).slice(1)) {
    const nl = part.indexOf('\n');
    res[part.slice(0, nl)] = part.slice(nl + 1).trim();
  }
  return res;
}

describe('scripts/install.sh', () => {
  it('refuses conflicting or unknown options before touching anything', () => {
    let r = spawnSync('bash', [INSTALL, '--advertise', '192.168.56.11', '--advertise-interface', 'eth1'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/give --advertise or --advertise-interface, not both/);
    r = spawnSync('bash', [INSTALL, '--bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown option --bogus/);
    r = spawnSync('bash', [INSTALL, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--prebuilt/);
  });

  describe(skip ? 'in a sandbox (skipped: needs root for mount namespaces)' : 'in a sandbox', () => {
    let dir: string;
    let out: Record<string, string>;
    const hadUser = spawnSync('getent', ['passwd', 'ovnetd']).status === 0;
    const hadPackage = existsSync('/opt/ovnetd');

    beforeAll(() => {
      if (skip) return;
      if (!existsSync(join(ROOT, 'dist/cli/main.js')) || !existsSync(join(ROOT, 'native/build/Release/ovnet.node'))) {
        throw new Error('the tree is not built: run npm ci (or npm run build) first');
      }
      dir = mkdtempSync(join(tmpdir(), 'ovnetd-install-'));
      // A snapshot, so edits to the working tree during the test cannot change the second run's input.
      const src = join(dir, 'src');
      mkdirSync(src);
      execFileSync('bash', ['-c', 'tar -C "$0" --exclude=./.git --exclude=./node_modules -cf - . | tar -C "$1" -xf - && cp -a "$0/node_modules/." "$1/node_modules/"', ROOT, src]);
      // A checkout owned by someone else, with a world-writable file: the install must be root's alone.
      execFileSync('chown', ['-R', '65534:65534', src]);
      execFileSync('chmod', ['o+w', join(src, 'bin/ovnetd.js')]);
      const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'bash', '-c', SANDBOX, 'sandbox', dir, 'bash', '-c', SCENARIO, 'scenario', src], {
        encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_cache: join(dir, 'npm-cache') },
      });
      if (r.status !== 0) throw new Error(`sandbox failed (${r.status}): ${r.stderr}\n${r.stdout}`);
      out = sections(r.stdout);
    }, 180_000);

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it.skipIf(skip)('installs the user, the package, the link, the config and the unit', () => {
      expect(out.run1).toMatch(/rc=0$/);
      for (const step of ['user ovnetd: created', 'package /opt/ovnetd: installed', 'link /usr/local/bin/ovnetd -> /opt/ovnetd/bin/ovnetd.js: made', 'config /etc/ovnetd/agent.json: written', 'unit /etc/systemd/system/ovnetd.service: installed', 'systemd is not running']) {
        expect(out.run1).toContain(step);
      }
      const [name, , uid, , , home, shell] = out.passwd.split(':');
      expect(name).toBe('ovnetd');
      expect(Number(uid)).toBeLessThan(1000);
      expect(home).toBe('/var/lib/ovnetd');
      expect(shell).toBe('/usr/sbin/nologin');
      expect(out.link).toBe('/opt/ovnetd/bin/ovnetd.js');
      expect(out.version).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
      expect(out.unit).toBe('same');
      expect(out.devdeps).toBe('pruned');
      expect(out.foreign).toBe('');
    });

    it.skipIf(skip)('writes agent.json from the example and the flags, readable by the service only', () => {
      const [mode, ...json] = out.config.split('\n');
      expect(mode).toBe('640 root ovnetd');
      const cfg = JSON.parse(json.join('\n')) as Record<string, unknown>;
      expect(cfg).toMatchObject({ store: 'consul://127.0.0.1:8500', advertiseInterface: 'eth1' });
      expect(buildConfig(cfg, {}).advertiseInterface).toBe('eth1');
    });

    it.skipIf(skip || !haveAnalyze)(`systemd-analyze verify accepts the installed unit${haveAnalyze ? '' : ' (skipped: systemd-analyze is not installed)'}`, () => {
      expect(out.verify).toBe('rc=0');
    });

    it.skipIf(skip)('a second run changes nothing', () => {
      expect(out.run2).toMatch(/rc=0$/);
      expect(out.run2).toContain('nothing changed');
      expect(out.run2).not.toMatch(/: (created|installed|made|written)$/m);
      expect(out.users).toBe('1');
    });

    it.skipIf(skip)('left the machine as it was', () => {
      expect(spawnSync('getent', ['passwd', 'ovnetd']).status === 0).toBe(hadUser);
      expect(existsSync('/opt/ovnetd')).toBe(hadPackage);
    });
  });
});
