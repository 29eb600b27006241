/** Go-style durations ("10s", "1m30s", "250ms"), the format Consul uses for TTL, wait and LockDelay. */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/;

/** Milliseconds, or undefined when `text` is not a valid non-negative duration. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '' || text.length > 64) return undefined;
  let rest = text;
  let total = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Consul sends LockDelay as a duration string, or a number: seconds if small, else nanoseconds. */
export function parseLockDelay(v: unknown): number | undefined {
  if (typeof v === 'string') return parseDuration(v);
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v < 1000 ? v * 1000 : v / 1e6;
  return undefined;
}
