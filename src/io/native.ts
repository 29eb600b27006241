/**
 * Loads the ovnet N-API addon (native/, built by node-gyp) and turns its errors into OvnError.
 * This module and its siblings in io/ are the only importers of the addon.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OvnError, type OvnErrorCode } from '../lib/errors.js';
import type * as Addon from '../../native/index.js';

export type NativeAddon = typeof Addon;

// src/io/native.ts (vitest) and dist/io/native.js (after tsc) are both two levels below the root.
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADDON_PATH = path.join(PACKAGE_ROOT, 'native', 'build', 'Release', 'ovnet.node');

let addon: NativeAddon | undefined;

/** The addon, loaded once. Throws OVN_ERR_NATIVE when it is missing or cannot be loaded. */
export function loadNative(): NativeAddon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    throw new OvnError(
      'OVN_ERR_NATIVE',
      missing
        ? `native addon not built: ${ADDON_PATH} is missing; run "npm run build" (needs make, g++ and node-gyp)`
        : `native addon ${ADDON_PATH} failed to load: ${(e as Error).message}; rebuild it with "npm run build"`,
      { cause: e },
    );
  }
  return addon;
}

interface NativeErrorShape {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  message: string;
}

/** Maps an error thrown by the addon (or anything else) to an OvnError with a stable code. */
export function toOvnError(e: unknown): OvnError {
  if (e instanceof OvnError) return e;
  if (!(e instanceof Error)) return new OvnError('OVN_ERR_INTERNAL', String(e));
  const n = e as Error & NativeErrorShape;
  if (n.code !== 'OVN_ERR_NATIVE') {
    const code: OvnErrorCode = e instanceof TypeError || e instanceof RangeError ? 'OVN_ERR_INVALID' : 'OVN_ERR_INTERNAL';
    return new OvnError(code, e.message, { cause: e });
  }
  return new OvnError(codeForErrno(n.errno, n.syscall), e.message, { cause: e });
}

function codeForErrno(errno: unknown, syscall: unknown): OvnErrorCode {
  if (errno === 'EPERM' || errno === 'EACCES') return 'OVN_ERR_PERMISSION';
  // No system call was made: the addon rejected an argument (name too long, bad address).
  if (syscall === undefined) return 'OVN_ERR_INVALID';
  return 'OVN_ERR_NATIVE';
}

/** Runs a cold-path native call, rethrowing its error as OvnError. */
export function nativeCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toOvnError(e);
  }
}
