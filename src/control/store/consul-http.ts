/**
 * Consul client plumbing: request contexts (so X-Consul-Index can be read and blocking calls
 * aborted), index parsing, and translation of the client's errors into OvnError codes.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { OvnError, isOvnError } from '../../lib/errors.js';

/** papi request context: `includeResponse` makes calls resolve to [response, body]; 'cancel' aborts. */
export class ConsulRequestContext extends EventEmitter {
  readonly includeResponse = true as const;
  cancel(): void {
    this.emit('cancel');
  }
}

/** X-Consul-Index as a number; 0 when absent or malformed (callers treat 0 as "reset"). */
export function consulIndex(res: IncomingMessage): number {
  const raw = res.headers['x-consul-index'];
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : 0;
  return Number.isSafeInteger(n) ? n : 0;
}

function field(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null && name in err ? (err as Record<string, unknown>)[name] : undefined;
}

/** The HTTP status of a failed Consul call, if the server answered at all. */
export function consulStatus(err: unknown): number | undefined {
  const res = field(err, 'response');
  const code = field(res, 'statusCode');
  return typeof code === 'number' ? code : undefined;
}

export function toStoreError(err: unknown, what: string, url: string): OvnError {
  if (isOvnError(err)) return err;
  const status = consulStatus(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (status === 403 || status === 401) return new OvnError('OVN_ERR_PERMISSION', `${what} at ${url}: ACL denied (${msg}); check the token`, { cause: err });
  if (status !== undefined && status < 500) return new OvnError('OVN_ERR_STORE_PROTOCOL', `${what} at ${url}: HTTP ${status}: ${msg}`, { cause: err });
  if (field(err, 'isValidation') === true) return new OvnError('OVN_ERR_INVALID', `${what}: ${msg}`, { cause: err });
  return new OvnError('OVN_ERR_STORE_UNREACHABLE', `${what} at ${url}: ${msg}`, { cause: err, retryable: true });
}
