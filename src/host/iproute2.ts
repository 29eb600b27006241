/**
 * The one place that runs iproute2. Every call is an argv array through execFile (never a
 * shell), asynchronous so the agent's event loop keeps forwarding packets while `ip` runs, and
 * every failure becomes an OvnError with a stable code plus a `reason` callers branch on
 * (e.g. "not-found" makes a delete idempotent). COLD PATH throughout.
 *
 * Target namespace: a name runs `ip -netns NAME ...`; a pid (a container's process) runs
 * `nsenter --net=/proc/PID/ns/net ip ...`, because `ip -netns` only takes names.
 */
import { execFile } from 'node:child_process';
import { OvnError } from '../lib/errors.js';
import { validateNetnsName } from './names.js';

/** A named network namespace (/var/run/netns/NAME) or the pid of a process inside one. */
export type NetnsRef = string | number;

export interface IpOptions {
  /** Run in this namespace instead of the caller's. */
  netns?: NetnsRef;
  /** Kill `ip` after this long (default 15 s): a stuck rtnl lock must not hang the agent. */
  timeoutMs?: number;
}

export type IprouteTool = 'ip' | 'bridge';

export type IprouteFailureReason =
  | 'not-found' | 'exists' | 'busy' | 'netns-missing' | 'permission' | 'timeout' | 'missing-tool' | 'bad-output' | 'other';

/** OVN_ERR_IPROUTE or OVN_ERR_PERMISSION, with the command that failed and what it said. */
export class IprouteError extends OvnError {
  readonly argv: readonly string[];
  readonly stderr: string;
  readonly reason: IprouteFailureReason;
  constructor(reason: IprouteFailureReason, argv: readonly string[], stderr: string, message: string, cause?: unknown) {
    super(reason === 'permission' ? 'OVN_ERR_PERMISSION' : 'OVN_ERR_IPROUTE', message, {
      cause, retryable: reason === 'busy' || reason === 'timeout',
    });
    this.name = 'IprouteError';
    this.argv = argv;
    this.stderr = stderr;
    this.reason = reason;
  }
}

export function isIprouteError(e: unknown, reason?: IprouteFailureReason): e is IprouteError {
  return e instanceof IprouteError && (reason === undefined || e.reason === reason);
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** `ip -j -d link show` on a host with thousands of interfaces is several MB. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** The full argv (program first) that runs `tool args` in `netns`. */
export function commandArgv(tool: IprouteTool, args: readonly string[], netns?: NetnsRef): string[] {
  if (netns === undefined) return [tool, ...args];
  if (typeof netns === 'number') {
    if (!Number.isInteger(netns) || netns <= 0) throw new OvnError('OVN_ERR_INVALID', `netns pid ${netns} is not a positive integer`);
    return ['nsenter', `--net=/proc/${netns}/ns/net`, '--', tool, ...args];
  }
  return [tool, '-netns', validateNetnsName(netns), ...args];
}

/** Shell-like rendering for messages only; nothing is ever run through a shell. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

const STDERR_REASONS: ReadonlyArray<[RegExp, IprouteFailureReason]> = [
  [/Operation not permitted|Permission denied/i, 'permission'],
  [/Cannot open network namespace|cannot open \/proc\/\d+\/ns\/net|reassociate to namespace/i, 'netns-missing'],
  [/Cannot find device|does not exist|No such device/i, 'not-found'],
  [/File exists/i, 'exists'],
  [/Device or resource busy/i, 'busy'],
];

export function classifyStderr(stderr: string): IprouteFailureReason {
  for (const [re, reason] of STDERR_REASONS) if (re.test(stderr)) return reason;
  return 'other';
}

/** The lines worth showing: `ip` prints the kernel's extack message or "RTNETLINK answers: ...". */
export function stderrSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.slice(0, 2).join('; ').slice(0, 400) || '(no message)';
}

/** What execFile reports besides stdout/stderr. */
export interface ExecFailure {
  /** Exit status (number) or spawn errno ('ENOENT', 'EACCES'). */
  code?: string | number | null;
  killed?: boolean;
  signal?: string | null;
}

/** Maps a failed run to a typed error; pure, so the mapping is unit-tested without a kernel. */
export function iprouteFailure(argv: readonly string[], stderr: string, failure: ExecFailure, cause?: unknown): IprouteError {
  const cmd = formatArgv(argv);
  if (failure.code === 'ENOENT') {
    const pkg = argv[0] === 'nsenter' ? 'util-linux' : 'iproute2';
    return new IprouteError('missing-tool', argv, stderr, `${argv[0]} not found in PATH (install ${pkg}) while running: ${cmd}`, cause);
  }
  if (failure.code === 'EACCES' || failure.code === 'EPERM') {
    return new IprouteError('permission', argv, stderr, `cannot run ${argv[0]}: ${String(failure.code)}`, cause);
  }
  if (failure.killed || (failure.signal && failure.code == null)) {
    return new IprouteError('timeout', argv, stderr, `${cmd}: killed (${failure.signal ?? 'timeout'}) before finishing`, cause);
  }
  const reason = classifyStderr(stderr);
  const hint = reason === 'permission' ? ' (needs CAP_NET_ADMIN: run ovnetd as root or grant the capability)' : '';
  return new IprouteError(reason, argv, stderr, `${cmd}: ${stderrSummary(stderr)}${hint}`, cause);
}

/** Runs `tool args` and resolves with stdout; rejects with an IprouteError. */
export function iproute(tool: IprouteTool, args: readonly string[], opts: IpOptions = {}): Promise<string> {
  const argv = commandArgv(tool, args, opts.netns);
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: MAX_OUTPUT_BYTES,
      // Messages are matched in English: a localised strerror would defeat classifyStderr.
      env: { ...process.env, LC_ALL: 'C' },
    }, (err, stdout, stderr) => {
      if (err) reject(iprouteFailure(argv, stderr, err as ExecFailure, err));
      else resolve(stdout);
    });
  });
}

export function ip(args: readonly string[], opts: IpOptions = {}): Promise<string> {
  return iproute('ip', args, opts);
}

/** `ip -j args`, parsed. `ip` prints nothing at all for some empty listings: that is []. */
export async function ipJson<T = unknown[]>(args: readonly string[], opts: IpOptions = {}): Promise<T> {
  const fullArgs = ['-j', ...args];
  const out = await ip(fullArgs, opts);
  if (out.trim() === '') return [] as T;
  try {
    return JSON.parse(out) as T;
  } catch (e) {
    const argv = commandArgv('ip', fullArgs, opts.netns);
    throw new IprouteError('bad-output', argv, '', `${formatArgv(argv)}: output is not JSON (${out.slice(0, 80)})`, e);
  }
}
