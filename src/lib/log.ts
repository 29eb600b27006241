/**
 * Logging through pino. Under systemd (JOURNAL_STREAM set) each line gets a syslog priority
 * prefix ("<3>") so `journalctl -p err` filters by severity; otherwise plain JSON lines.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const SYSLOG_PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

export const LOG_LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = (opts.level ?? 'info') as LevelWithSilent;
  const dest = opts.destination ?? process.stderr;
  if (!process.env.JOURNAL_STREAM) return pino({ level, name: opts.name ?? 'ovnetd' }, dest);
  return pino({ level, name: opts.name ?? 'ovnetd', timestamp: false }, {
    write(line: string) {
      const m = /"level":(\d+)/.exec(line);
      const prio = m ? SYSLOG_PRIORITY[Number(m[1])] ?? 6 : 6;
      dest.write(`<${prio}>${line}`);
    },
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
