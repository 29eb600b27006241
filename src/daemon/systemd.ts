/**
 * The agent's side of the systemd service protocol (sd_notify(3), sd_watchdog_enabled(3)), for
 * scripts/ovnetd.service (Type=notify, WatchdogSec=): READY=1 once the agent forwards, STATUS=
 * lines for `systemctl status`, STOPPING=1 on shutdown, and WATCHDOG=1 every half WATCHDOG_USEC.
 * The pings come from a timer on the event loop that forwards packets, so an agent whose loop
 * hangs stops pinging and systemd restarts it. Outside systemd (no NOTIFY_SOCKET) it all does
 * nothing. The datagrams go through the addon (io/notify.ts): no libsystemd, no child process.
 */
import { sdNotify } from '../io/notify.js';

/** Sends one notification datagram; false when it could not be delivered. */
export type NotifySend = (message: string) => boolean;

export interface ServiceNotifierOptions {
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** This process's pid, compared with WATCHDOG_PID (default process.pid). */
  pid?: number;
  /** Replaces the datagram sender (tests). */
  send?: NotifySend;
}

/**
 * How often to send WATCHDOG=1: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises, or
 * undefined when systemd asked for no watchdog. WATCHDOG_PID names the process the watchdog is
 * for: a child that inherited the variables (or a process they leaked into) must not ping.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || !/^\d+$/.test(usec) || Number(usec) === 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(pid)) return undefined;
  return Math.max(1, Math.floor(Number(usec) / 2000));
}

/** A newline would end the STATUS= assignment and start a bogus one. */
function statusLine(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ')}`;
}

export class ServiceNotifier {
  /** The watchdog ping period, or undefined when systemd set no watchdog for this process. */
  readonly watchdogMs: number | undefined;
  readonly #send: NotifySend;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(opts: ServiceNotifierOptions = {}) {
    const env = opts.env ?? process.env;
    this.#send = opts.send ?? ((message) => sdNotify(message, env));
    this.watchdogMs = watchdogIntervalMs(env, opts.pid ?? process.pid);
  }

  /** READY=1 with a status line, then the watchdog pings (systemd arms it once start-up is over). */
  ready(status: string): void {
    if (this.#stopping) return;
    this.#send(`READY=1\n${statusLine(status)}`);
    this.#startWatchdog();
  }

  status(text: string): void {
    if (!this.#stopping) this.#send(statusLine(text));
  }

  /** STOPPING=1 and no more pings. Idempotent. */
  stopping(status = 'stopping'): void {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#send(`STOPPING=1\n${statusLine(status)}`);
  }

  #startWatchdog(): void {
    if (this.watchdogMs === undefined || this.#timer) return;
    this.#send('WATCHDOG=1');
    this.#timer = setInterval(() => this.#send('WATCHDOG=1'), this.watchdogMs);
    // The pings must never be what keeps a finished process alive.
    this.#timer.unref();
  }
}
