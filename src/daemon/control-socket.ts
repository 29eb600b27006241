/**
 * The agent's control socket: a unix stream socket speaking one JSON object per line.
 * Request {"id":1,"method":"status","params":{...}} -> {"id":1,"ok":true,"result":...} or
 * {"id":1,"ok":false,"error":{"code":"OVN_ERR_*","message":"..."}}. A bad request gets an
 * error reply, never a crash; a client that sends garbage is answered and disconnected.
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { mkdirSync, unlinkSync, chmodSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { OvnError, isOvnError } from '../lib/errors.js';

export type Handler = (params: Record<string, unknown>) => unknown | Promise<unknown>;

const MAX_LINE = 1 << 20;

export class ControlServer {
  #server: Server | undefined;
  readonly #handlers = new Map<string, Handler>();
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  handle(method: string, fn: Handler): this {
    this.#handlers.set(method, fn);
    return this;
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    await this.#removeStale();
    const server = createServer((sock) => this.#serve(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => { server.off('error', reject); resolve(); });
    });
    chmodSync(this.path, 0o660);
    this.#server = server;
  }

  /** A socket file left by a crashed agent is removed; one that answers means a live agent. */
  async #removeStale(): Promise<void> {
    if (!existsSync(this.path)) return;
    const alive = await new Promise<boolean>((resolve) => {
      const c = createConnection(this.path);
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (alive) throw new OvnError('OVN_ERR_CONTROL_SOCKET', `another agent is already serving ${this.path}`);
    unlinkSync(this.path);
  }

  #serve(sock: Socket): void {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) { sock.end(JSON.stringify(errorReply(null, new OvnError('OVN_ERR_INVALID', 'request too large'))) + '\n'); return; }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) void this.#answer(sock, line);
      }
    });
  }

  async #answer(sock: Socket, line: string): Promise<void> {
    let id: unknown = null;
    try {
      const req = JSON.parse(line) as { id?: unknown; method?: unknown; params?: unknown };
      id = req.id ?? null;
      const fn = typeof req.method === 'string' ? this.#handlers.get(req.method) : undefined;
      if (!fn) throw new OvnError('OVN_ERR_INVALID', `unknown method ${JSON.stringify(req.method)}`);
      const params = typeof req.params === 'object' && req.params !== null ? req.params as Record<string, unknown> : {};
      const result = await fn(params);
      if (!sock.destroyed) sock.write(JSON.stringify({ id, ok: true, result }) + '\n');
    } catch (e) {
      if (!sock.destroyed) sock.write(JSON.stringify(errorReply(id, e)) + '\n');
    }
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}

function errorReply(id: unknown, e: unknown): object {
  const code = isOvnError(e) ? e.code : e instanceof SyntaxError ? 'OVN_ERR_INVALID' : 'OVN_ERR_INTERNAL';
  return { id, ok: false, error: { code, message: e instanceof Error ? e.message : String(e) } };
}

/** One request to a running agent. */
export async function callAgent(path: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new OvnError('OVN_ERR_CONTROL_SOCKET', `no answer from the agent at ${path} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(JSON.stringify({ id: 1, method, params }) + '\n'));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new OvnError('OVN_ERR_CONTROL_SOCKET', `cannot reach the agent at ${path} (${e.code ?? e.message}): is \`ovnetd agent\` running?`));
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        const rep = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: unknown; error?: { code: string; message: string } };
        if (rep.ok) resolve(rep.result);
        else reject(new OvnError((rep.error?.code ?? 'OVN_ERR_INTERNAL') as never, rep.error?.message ?? 'agent error'));
      } catch (e) {
        reject(new OvnError('OVN_ERR_CONTROL_SOCKET', `malformed reply from the agent: ${(e as Error).message}`));
      }
    });
  });
}
