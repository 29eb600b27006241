/**
 * EmbeddedStoreServer: a single-node store speaking the subset of Consul's HTTP API ovnetd
 * uses (KV with CAS, locks and blocking queries; /v1/txn for KV; TTL sessions; status), so
 * agents reach it with consul:// URLs through the very client code used against Consul.
 * State is persisted to a data directory (snapshot + log, see embedded/persistence.ts).
 * Sessions are not persisted: on load, keys still held by a session get their session's
 * behavior applied (delete, or release), as if every session had expired while we were down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { systemClock, type Clock } from '../../lib/clock.js';
import { OvnError } from '../../lib/errors.js';
import { ChangeNotifier } from './embedded/change-notifier.js';
import type { RouteContext } from './embedded/context.js';
import { HttpError, parseTarget, requireMethod, sendJson, sendText } from './embedded/http-io.js';
import { handleKv } from './embedded/kv-routes.js';
import { KvState, type KvStateData } from './embedded/kv-state.js';
import { DataDir } from './embedded/persistence.js';
import { handleSession } from './embedded/session-routes.js';
import { SessionTable } from './embedded/sessions.js';
import { handleTxn } from './embedded/txn-routes.js';

export interface EmbeddedStoreOptions {
  /** Directory for snapshot.json and wal.jsonl (created if missing). */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8500; 0 picks a free port (read it from `port` after start()). */
  port?: number;
  /** When set, KV/txn/session requests must carry this ACL token (X-Consul-Token or ?token=). */
  token?: string;
  clock?: Clock;
  /** Shortest session TTL accepted (default 1 s; Consul's is 10 s). */
  minSessionTtlSeconds?: number;
  /** fsync every commit (default true). */
  fsync?: boolean;
  /** Log lines after which the snapshot is rewritten and the log emptied (default 1000). */
  compactEvery?: number;
}

interface Running {
  server: Server;
  ctx: RouteContext;
  data: DataDir;
  sockets: Set<Socket>;
  aborts: Set<AbortController>;
}

export class EmbeddedStoreServer {
  readonly #opts: EmbeddedStoreOptions;
  #running: Running | undefined;
  #port: number;

  constructor(opts: EmbeddedStoreOptions) {
    this.#opts = opts;
    this.#port = opts.port ?? 8500;
  }

  get host(): string {
    return this.#opts.host ?? '127.0.0.1';
  }

  /** The bound port (the real one after start() when 0 was asked for). */
  get port(): number {
    return this.#port;
  }

  /** The URL agents use: consul://host:port. */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `consul://${h}:${this.#port}`;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    const data = new DataDir(this.#opts.dataDir, this.#opts.fsync ?? true);
    const ctx = this.#context(data, this.#load(data));
    const running: Running = { server: createServer(), ctx, data, sockets: new Set(), aborts: new Set() };
    await this.#listen(running);
    this.#port = (running.server.address() as AddressInfo).port;
    ctx.address = `${this.host}:${this.#port}`;
    this.#running = running;
  }

  /** Wires the KV table, sessions, persistence and blocking-query wake-ups together. */
  #context(data: DataDir, loaded: KvStateData): RouteContext {
    const clock = this.#opts.clock ?? systemClock;
    const notifier = new ChangeNotifier(clock);
    const compactEvery = this.#opts.compactEvery ?? 1000;
    const sessions = new SessionTable(clock, (s) => {
      // Runs from TTL timers too: a failing disk must not crash the server. The keys stay
      // until the next start, whose reload drops keys of sessions that no longer exist.
      try { kv.endSession(s.id, s.behavior, s.lockDelayMs); } catch { /* see above */ }
    });
    const kv: KvState = new KvState(clock, {
      sessionBehavior: (id) => sessions.get(id)?.behavior,
      persist: (rec) => data.append(rec),
      onCommit: (rec) => {
        notifier.notify([...rec.puts.map((e) => e.key), ...rec.deletes]);
        if (data.walLines < compactEvery) return;
        try { data.writeSnapshot(kv.snapshot()); } catch { /* the log still has it all; retried next commit */ }
      },
    }, loaded);
    return {
      state: kv, sessions, notifier, clock,
      minSessionTtlMs: (this.#opts.minSessionTtlSeconds ?? 1) * 1000,
      address: `${this.host}:${this.#port}`,
    };
  }

  async #listen(r: Running): Promise<void> {
    r.server.on('request', (req, res) => this.#serve(r, req, res));
    r.server.on('connection', (s: Socket) => { r.sockets.add(s); s.once('close', () => r.sockets.delete(s)); });
    r.server.on('clientError', (_err, socket: Socket) => {
      // Answer only if nothing was sent yet: garbage after a response must not become a 2nd reply.
      if (socket.writable && socket.bytesWritten === 0) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      r.server.once('error', (err) => {
        r.data.close();
        reject(new OvnError('OVN_ERR_CONFIG', `embedded store cannot listen on ${this.host}:${this.#port}: ${err.message}`, { cause: err }));
      });
      r.server.listen(this.#port, this.host, () => resolve());
    });
    // Accept errors (e.g. EMFILE) after listening must not crash the process.
    r.server.on('error', () => {});
  }

  /** Stops listening, drops every connection (blocking queries included) and closes the files. */
  async stop(): Promise<void> {
    const r = this.#running;
    if (!r) return;
    this.#running = undefined;
    for (const a of r.aborts) a.abort();
    const closed = new Promise<void>((resolve) => r.server.close(() => resolve()));
    for (const s of r.sockets) s.destroy();
    await closed;
    r.ctx.notifier.closeAll();
    r.ctx.sessions.clear();
    r.data.close();
  }

  /** Loads persisted state and applies the end of every (non-persisted) session to its keys. */
  #load(data: DataDir): KvStateData {
    try {
      const state = new KvState(systemClock, { sessionBehavior: () => undefined, persist: () => {}, onCommit: () => {} }, data.load());
      const orphans = new Map<string, 'delete' | 'release'>();
      for (const e of state.entries.values()) if (e.session) orphans.set(e.session, e.lockBehavior ?? 'release');
      for (const [id, behavior] of orphans) state.endSession(id, behavior, 0);
      const snapshot = state.snapshot();
      data.writeSnapshot(snapshot);
      return snapshot;
    } catch (err) {
      data.close();
      if (err instanceof OvnError) throw err;
      throw new OvnError('OVN_ERR_CONFIG', `embedded store cannot use data dir ${data.dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  #serve(r: Running, req: IncomingMessage, res: ServerResponse): void {
    const abort = new AbortController();
    r.aborts.add(abort);
    res.once('close', () => { abort.abort(); r.aborts.delete(abort); });
    this.#route(r, req, res, abort.signal).catch((err: unknown) => {
      if (res.headersSent) { res.destroy(); return; }
      if (err instanceof HttpError) {
        const extra = err.status === 413 ? { ...err.headers, Connection: 'close' } : err.headers;
        sendText(res, err.status, err.message, extra);
        if (err.status === 413) res.once('finish', () => req.socket.destroy());
        return;
      }
      sendText(res, 500, `Internal error: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  async #route(r: Running, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const t = parseTarget(req.url);
    if (t.path === '/v1/status/leader' || t.path === '/v1/status/peers') {
      requireMethod(req, 'GET');
      return sendJson(res, 200, t.path.endsWith('leader') ? r.ctx.address : [r.ctx.address]);
    }
    this.#authorize(req, t.query);
    if (t.path.startsWith('/v1/kv/') || t.path === '/v1/kv') return handleKv(r.ctx, req, res, t.path.slice('/v1/kv/'.length), t, signal);
    if (t.path === '/v1/txn') return handleTxn(r.ctx, req, res);
    if (t.path.startsWith('/v1/session/')) return handleSession(r.ctx, req, res, t.path.slice('/v1/session/'.length));
    throw new HttpError(404, `Unknown endpoint ${JSON.stringify(t.path.slice(0, 100))} (the embedded store serves /v1/kv, /v1/txn, /v1/session and /v1/status)`);
  }

  #authorize(req: IncomingMessage, query: URLSearchParams): void {
    const want = this.#opts.token;
    if (!want) return;
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const got = req.headers['x-consul-token'] ?? bearer ?? query.get('token') ?? '';
    if (got !== want) throw new HttpError(403, 'Permission denied: ACL token missing or not recognised');
  }
}
