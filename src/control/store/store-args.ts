/** Argument checks shared by every backend, so all of them reject the same inputs the same way. */
import { OvnError } from '../../lib/errors.js';

export function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '' || key.includes('\0')) {
    throw new OvnError('OVN_ERR_INVALID', `invalid store key ${JSON.stringify(key)}: must be a non-empty string without NUL`);
  }
}

export function checkIndex(index: number, what = 'expectIndex'): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new OvnError('OVN_ERR_INVALID', `${what} must be a non-negative integer, got ${index}`);
}

export function checkTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) {
    throw new OvnError('OVN_ERR_INVALID', `registration TTL must be an integer between 1 and 86400 seconds, got ${ttlSeconds}`);
  }
}

export function conflict(key: string): OvnError {
  return new OvnError('OVN_ERR_STORE_CONFLICT', `key ${JSON.stringify(key)} is held by another live registration; retry after its TTL`, { retryable: true });
}
