/**
 * More than one core for the data plane: worker threads, each a full forwarding pipeline.
 *
 * DESIGN
 * - Worker i (the agent's main thread is worker 0) owns one queue of every TAP (IFF_MULTI_QUEUE:
 *   the kernel spreads frames over the queues by flow hash) and one UDP socket on the agent's
 *   port (SO_REUSEPORT: the kernel spreads datagrams by their 4-tuple; the outer source port is
 *   the inner flow's hash, RFC 7348, so a flow stays on one worker in each direction). It runs
 *   its own Dataplane, forwarder and tables: the hot path shares nothing and takes no lock.
 * - Control stays in one place. The agent's Dataplane applies every command first (it validates,
 *   and a refused command goes nowhere); then fanOut() posts the same message to each worker in
 *   order. Workers apply it to their replica; a worker that cannot (a TAP queue failing to
 *   attach) reports it and the agent logs it.
 * - Learning is per worker: a MAC is learned by the worker that receives its traffic. A worker
 *   that has not seen a destination floods to the network's members (correct for a learning
 *   bridge, only wider); the answer then teaches it. A SharedArrayBuffer table would share
 *   learning, but needs cross-thread synchronisation on the per-packet path (open addressing
 *   with back-shift deletion is not safe under concurrent writers) for little gain where the
 *   fdb is mostly pinned or quickly learned. The cost: a MAC that moves to another peer is
 *   relearned only by the workers that receive from it; the others keep the old peer until it
 *   ages out.
 * - Counters, fdb dumps and port statistics of the control socket show worker 0 only.
 *
 * MEASURED with bench/workers.mjs (2-core VM shared with other work, namespace topology of
 * `npm run bench`, offloads on, 3 interleaved rounds of 4 s, medians; kernel VXLAN alongside):
 *
 *                        kernel   1 worker   2 workers
 *   TCP 1 stream Gbit/s  7.00     3.70       2.81
 *   TCP 4 streams Gbit/s 10.58    4.27       3.72
 *   UDP 64 B packets/s   78,886   57,033     22,326
 *   ping avg ms          0.095    0.635      0.539
 *
 * Every core is already busy during a stream (iperf3 at both ends, the kernel's TCP, bridges,
 * veths, both agents); a second forwarding thread per agent only adds contention and context
 * switches. So the agent runs 1 worker; OVNETD_WORKERS=N (environment, for measurement) starts
 * N - 1 more. Machines with cores to spare may see the opposite: measure there.
 */
import { Worker } from 'node:worker_threads';
import type { DataplaneCommand } from '../dataplane/commands.js';
import { OvnError } from '../lib/errors.js';

export interface WorkerInit {
  index: number;
  listen: string;
  port: number;
  srcPorts: number;
  offload: boolean;
  maxDatagram: number;
  slotSize: number;
  fdbCapacity: number;
  fdbAgeMs: number;
}

export type WorkerRequest = { type: 'cmd'; cmd: DataplaneCommand } | { type: 'close' };
export type WorkerReply = { type: 'ready' } | { type: 'error'; message: string; fatal?: boolean };

const CLOSE_TIMEOUT_MS = 3000;

export class DataplaneWorkers {
  readonly #workers: Worker[];

  private constructor(workers: Worker[]) {
    this.#workers = workers;
  }

  /**
   * COLD PATH. Starts `count` workers (indices 1..count) and waits until each has bound its
   * socket. `onError` hears what a worker could not apply.
   */
  static async start(count: number, init: Omit<WorkerInit, 'index'>, onError: (message: string) => void): Promise<DataplaneWorkers> {
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 1; i <= count; i++) {
      const w = new Worker(new URL('./dataplane-worker.js', import.meta.url), { workerData: { ...init, index: i } });
      workers.push(w);
      ready.push(new Promise<void>((resolve, reject) => {
        w.on('message', (m: WorkerReply) => {
          if (m.type === 'ready') resolve();
          else if (m.fatal) reject(new OvnError('OVN_ERR_NATIVE', m.message));
          else onError(m.message);
        });
        w.once('error', reject);
        w.once('exit', (code) => reject(new OvnError('OVN_ERR_INTERNAL', `data-plane worker ${i} exited (${code}) before it was ready`)));
      }));
    }
    const pool = new DataplaneWorkers(workers);
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get count(): number {
    return this.#workers.length;
  }

  /** Posts a command (already applied by the agent's own data plane) to every worker, in order. */
  post(cmd: DataplaneCommand): void {
    for (const w of this.#workers) w.postMessage({ type: 'cmd', cmd } satisfies WorkerRequest);
  }

  /** Closes every worker's ports and waits for the threads to end (terminating stragglers). */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => new Promise<void>((resolve) => {
      const t = setTimeout(() => { void w.terminate().then(() => resolve()); }, CLOSE_TIMEOUT_MS);
      w.once('exit', () => { clearTimeout(t); resolve(); });
      w.postMessage({ type: 'close' } satisfies WorkerRequest);
    })));
  }
}

/** A command sink that applies to `main` first (validation, order) and then fans out to `workers`. */
export function fanOut(main: { apply(cmd: DataplaneCommand): void }, workers: DataplaneWorkers | undefined): { apply(cmd: DataplaneCommand): void } {
  if (!workers) return main;
  return {
    apply(cmd: DataplaneCommand): void {
      main.apply(cmd);
      workers.post(cmd);
    },
  };
}
