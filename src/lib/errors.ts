/**
 * Errors with stable codes. Operators and tests match on `code`, never on message text.
 * `retryable` separates "try again later" (store unreachable) from "fix your input" (bad CIDR).
 */
export type OvnErrorCode =
  | 'OVN_ERR_CONFIG'
  | 'OVN_ERR_USAGE'
  | 'OVN_ERR_NATIVE'
  | 'OVN_ERR_DEVICE'
  | 'OVN_ERR_IPROUTE'
  | 'OVN_ERR_PERMISSION'
  | 'OVN_ERR_STORE_UNREACHABLE'
  | 'OVN_ERR_STORE_CONFLICT'
  | 'OVN_ERR_STORE_PROTOCOL'
  | 'OVN_ERR_NOT_FOUND'
  | 'OVN_ERR_EXISTS'
  | 'OVN_ERR_INVALID'
  | 'OVN_ERR_CAPACITY'
  | 'OVN_ERR_CONTROL_SOCKET'
  | 'OVN_ERR_INTERNAL';

export class OvnError extends Error {
  readonly code: OvnErrorCode;
  readonly retryable: boolean;
  constructor(code: OvnErrorCode, message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OvnError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

export function isOvnError(e: unknown, code?: OvnErrorCode): e is OvnError {
  return e instanceof OvnError && (code === undefined || e.code === code);
}

/** One line for a human: the code and the message, never a stack. */
export function describeError(e: unknown): string {
  if (e instanceof OvnError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return `OVN_ERR_INTERNAL: ${e.message}`;
  return `OVN_ERR_INTERNAL: ${String(e)}`;
}
