/**
 * Local additions to the `consul` package's types (declaration merging, no casts): the runtime
 * accepts these options, the shipped .d.ts files just do not list them.
 * - per-request `index`/`wait` (blocking queries), `timeout`, `token`, and `ctx` (papi's request
 *   context: an EventEmitter; emitting 'cancel' aborts the request, and `includeResponse: true`
 *   makes the call resolve to `[response, body]` so X-Consul-Index can be read);
 * - the transaction API's real wire shape (`[{ KV: { Verb, Key, ... } }]`), which the package
 *   passes through untouched although its types describe lower-case fields.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';

declare module 'consul/lib/kv.js' {
  interface ConsulRequestContext extends EventEmitter {
    includeResponse: true;
  }
  interface RequestExtras {
    token?: string;
    timeout?: number;
  }
  interface BlockingListOptions extends RequestExtras {
    key: string;
    recurse: true;
    ctx: ConsulRequestContext;
    index?: string;
    wait?: string;
  }
  interface KeyGetOptions extends RequestExtras {
    key: string;
  }
  interface AcquireOptions extends RequestExtras {
    key: string;
    value: string;
    acquire: string;
  }
  interface Kv {
    /** With `ctx.includeResponse`, resolves to the HTTP response and the decoded items (absent on 404). */
    get(options: BlockingListOptions): Promise<[IncomingMessage, GetItem[]?]>;
    get(options: KeyGetOptions): Promise<GetItem | undefined>;
    set(options: AcquireOptions): Promise<boolean>;
  }
}

declare module 'consul/lib/session.js' {
  interface CreateOptions {
    timeout?: number;
  }
  interface RenewOptions {
    timeout?: number;
  }
  interface DestroyOptions {
    timeout?: number;
  }
}

declare module 'consul/lib/transaction.js' {
  /** One KV operation as Consul's /v1/txn expects it (Value base64). */
  interface TxnKvOp {
    KV: {
      Verb: 'set' | 'cas' | 'lock' | 'unlock' | 'get' | 'get-tree' | 'check-index' | 'check-session' | 'check-not-exists' | 'delete' | 'delete-tree' | 'delete-cas';
      Key: string;
      Value?: string;
      Flags?: number;
      Index?: number;
      Session?: string;
    };
  }
  interface TxnKvResultItem {
    KV?: {
      Key: string;
      Value: string | null;
      Flags: number;
      LockIndex: number;
      CreateIndex: number;
      ModifyIndex: number;
      Session?: string;
    } | null;
  }
  interface TxnKvResult {
    Results: TxnKvResultItem[] | null;
    Errors: { OpIndex: number; What: string }[] | null;
  }
  interface Transaction {
    create(operations: TxnKvOp[], options: { timeout?: number }): Promise<TxnKvResult>;
  }
}
