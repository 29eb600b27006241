/**
 * The iproute2 wrapper without a kernel: argv construction and the mapping of failures to
 * typed errors. The stderr texts are what iproute2 6.1 and util-linux printed on this machine.
 */
import { describe, it, expect } from 'vitest';
import { OvnError, describeError, isOvnError } from '../../src/lib/errors.js';
import {
  IprouteError, classifyStderr, commandArgv, formatArgv, iprouteFailure, isIprouteError, stderrSummary,
} from '../../src/host/iproute2.js';
import { linkChanges, requireKind, validateMtu, type LinkInfo } from '../../src/host/links.js';

describe('commandArgv', () => {
  it('runs ip directly, in a named netns, or through nsenter for a pid', () => {
    expect(commandArgv('ip', ['link', 'show'])).toEqual(['ip', 'link', 'show']);
    expect(commandArgv('ip', ['-j', 'link'], 'ovt-x-1')).toEqual(['ip', '-netns', 'ovt-x-1', '-j', 'link']);
    expect(commandArgv('bridge', ['fdb'], 'n1')).toEqual(['bridge', '-netns', 'n1', 'fdb']);
    expect(commandArgv('ip', ['link'], 1234)).toEqual(['nsenter', '--net=/proc/1234/ns/net', '--', 'ip', 'link']);
  });

  it('refuses namespace names that are paths or options, and bad pids', () => {
    for (const bad of ['../etc', '/run/netns/x', '-all', '', 'a b'] as const) {
      expect(() => commandArgv('ip', ['link'], bad), bad).toThrow(OvnError);
    }
    for (const pid of [0, -1, 1.5, Number.NaN]) {
      expect(() => commandArgv('ip', ['link'], pid), String(pid)).toThrow(/pid/);
    }
  });
});

describe('iprouteFailure', () => {
  const argv = ['ip', '-netns', 'ns1', 'link', 'add', 'name', 'ovbr-5', 'type', 'bridge'];
  const exit = (code: number) => ({ code, killed: false, signal: null });

  it('maps EPERM to OVN_ERR_PERMISSION with the command and a hint', () => {
    for (const stderr of [
      'RTNETLINK answers: Operation not permitted\n',
      'setting the network namespace "ns1" failed: Operation not permitted\n',
      'mkdir /var/run/netns failed: Permission denied\n',
    ]) {
      const e = iprouteFailure(argv, stderr, exit(2));
      expect(e.code).toBe('OVN_ERR_PERMISSION');
      expect(e.reason).toBe('permission');
      expect(e.message).toContain('ip -netns ns1 link add name ovbr-5 type bridge');
      expect(e.message).toContain('CAP_NET_ADMIN');
      expect(e.retryable).toBe(false);
    }
  });

  it('keeps argv and stderr and classifies the usual answers', () => {
    const cases: Array<[string, string]> = [
      ['Cannot find device "nope"\n', 'not-found'],
      ['Device "nope" does not exist.\n', 'not-found'],
      ['Error: argument "ovbr-5" is wrong: Device does not exist\n', 'not-found'],
      ['RTNETLINK answers: File exists\n', 'exists'],
      ['Cannot open network namespace "gone": No such file or directory\n', 'netns-missing'],
      ['nsenter: cannot open /proc/999999/ns/net: No such file or directory\n', 'netns-missing'],
      ['RTNETLINK answers: Device or resource busy\n', 'busy'],
      ['Error: argument "x y" is wrong: "dev" not a valid ifname\n', 'other'],
      ['', 'other'],
    ];
    for (const [stderr, reason] of cases) {
      const e = iprouteFailure(argv, stderr, exit(1));
      expect(e, stderr).toBeInstanceOf(IprouteError);
      expect(e).toBeInstanceOf(OvnError);
      expect(e.reason, stderr).toBe(reason);
      expect(e.code).toBe('OVN_ERR_IPROUTE');
      expect(e.argv).toEqual(argv);
      expect(e.stderr).toBe(stderr);
      expect(e.retryable).toBe(reason === 'busy');
      expect(isIprouteError(e, reason as IprouteError['reason'])).toBe(true);
      if (stderr) expect(e.message).toContain(stderr.trim());
    }
  });

  it('reports a missing program, a timeout, and describes itself in one line', () => {
    const missing = iprouteFailure(['nsenter', '--net=/proc/1/ns/net', '--', 'ip', 'link'], '', { code: 'ENOENT' });
    expect(missing.reason).toBe('missing-tool');
    expect(missing.message).toMatch(/nsenter not found in PATH \(install util-linux\)/);
    const timeout = iprouteFailure(argv, '', { code: null, killed: true, signal: 'SIGKILL' });
    expect(timeout.reason).toBe('timeout');
    expect(timeout.retryable).toBe(true);
    expect(describeError(iprouteFailure(argv, 'RTNETLINK answers: File exists\n', exit(2))))
      .toBe('OVN_ERR_IPROUTE: ip -netns ns1 link add name ovbr-5 type bridge: RTNETLINK answers: File exists');
  });

  it('summarises stderr to its first two lines and quotes odd argv words', () => {
    expect(stderrSummary('\n a \n\nb\nc\n')).toBe('a; b');
    expect(stderrSummary('')).toBe('(no message)');
    expect(classifyStderr('RTNETLINK answers: No such device')).toBe('not-found');
    expect(formatArgv(['ip', 'link', 'set', 'a b', 'alias', ''])).toBe('ip link set "a b" alias ""');
  });
});

describe('link helpers', () => {
  const link: LinkInfo = { ifindex: 3, name: 'ovtap-5', mtu: 1500, up: false, kind: 'tun' };

  it('lists only what differs, as ip link set words', () => {
    expect(linkChanges(link, { master: 'ovbr-5', mtu: 1450, up: true })).toEqual(['master', 'ovbr-5', 'mtu', '1450', 'up']);
    expect(linkChanges({ ...link, master: 'ovbr-5', mtu: 1450, up: true }, { master: 'ovbr-5', mtu: 1450, up: true })).toEqual([]);
    expect(linkChanges(link, {})).toEqual([]);
  });

  it('refuses a device of the wrong kind with OVN_ERR_DEVICE', () => {
    expect(() => requireKind(link, 'tun', 'a TAP')).not.toThrow();
    try {
      requireKind({ ...link, kind: 'veth' }, 'tun', 'a TAP');
      expect.unreachable();
    } catch (e) {
      expect(isOvnError(e, 'OVN_ERR_DEVICE')).toBe(true);
      expect((e as Error).message).toMatch(/ovtap-5 exists but is a veth device, not a TAP/);
    }
  });

  it('validates MTUs', () => {
    expect(validateMtu(68)).toBe(68);
    expect(validateMtu(65_535)).toBe(65_535);
    for (const bad of [67, 65_536, 1400.5, Number.NaN]) expect(() => validateMtu(bad), String(bad)).toThrow(OvnError);
  });
});
