/**
 * The process's effective capabilities, read from /proc/self/status (CapEff), so the agent can
 * refuse to start with one clear message instead of failing later at its first bridge or TAP.
 */
import { readFileSync } from 'node:fs';

/** linux/capability.h */
export const CAP_NET_ADMIN = 12;

/** Whether capability `cap` is in the effective set described by a /proc/PID/status text. */
export function hasEffectiveCapability(cap: number, statusText: string = readFileSync('/proc/self/status', 'utf8')): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText);
  return m !== null && ((BigInt(`0x${m[1]}`) >> BigInt(cap)) & 1n) === 1n;
}
