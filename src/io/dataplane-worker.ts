/**
 * Entry point of a data-plane worker thread (see dataplane-workers.ts for the design): its own
 * Dataplane over its own TAP queues (IFF_MULTI_QUEUE) and its own underlay socket
 * (SO_REUSEPORT on the agent's port), driven only by the commands the agent posts, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Dataplane } from '../dataplane/dataplane.js';
import type { DataplaneCommand } from '../dataplane/commands.js';
import { systemClock } from '../lib/clock.js';
import { NativeTapPort } from './tap-port.js';
import { NativeUnderlayPort } from './udp-port.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './dataplane-workers.js';

const TICK_MS = 1000;

function reply(m: WorkerReply): void {
  parentPort!.postMessage(m);
}

function run(init: WorkerInit): void {
  const underlay = NativeUnderlayPort.open({
    address: init.listen, port: init.port, srcPorts: init.srcPorts, offload: init.offload, reusePort: true,
  });
  if (init.offload) underlay.setMaxDatagram(init.maxDatagram);
  // The device exists (the agent made it before the command that adds the network): this attaches one more queue.
  const taps = { open: (_vni: number, name: string) => NativeTapPort.open(name, { offload: init.offload, multiQueue: true }) };
  const dp = new Dataplane({
    underlay, taps, clock: systemClock, fdbCapacity: init.fdbCapacity, fdbAgeMs: init.fdbAgeMs, slotSize: init.slotSize,
  });
  const timer = setInterval(() => dp.tick(), TICK_MS);
  let started = false;
  parentPort!.on('message', (m: WorkerRequest) => {
    if (m.type === 'close') {
      clearInterval(timer);
      dp.close();
      underlay.close();
      parentPort!.close();
      return;
    }
    try {
      dp.apply(m.cmd as DataplaneCommand);
      if (!started) {
        dp.start();
        started = true;
      }
    } catch (e) {
      reply({ type: 'error', message: `worker ${init.index}: ${(m.cmd as { kind?: string }).kind}: ${(e as Error).message}` });
    }
  });
  reply({ type: 'ready' });
}

try {
  run(workerData as WorkerInit);
} catch (e) {
  reply({ type: 'error', fatal: true, message: `worker ${(workerData as WorkerInit).index}: ${(e as Error).message}` });
  parentPort!.close();
}
