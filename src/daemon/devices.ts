/**
 * The real DeviceOps: bridge through host/ (iproute2), TAP through io/ (the addon opens it,
 * non-persistent, so a crashed agent leaves no TAP behind), then the TAP joins the bridge.
 * With offloads the TAP carries virtio_net_hdr and TSO super-frames (see io/tap-port.ts).
 */
import type { Logger } from '../lib/log.js';
import { bridgeName, tapName } from '../host/names.js';
import { ensureBridge, attachTap, removeNetwork, listManagedNetworks, deleteLinkIfExists } from '../host/network-devices.js';
import { NativeTapPort } from '../io/tap-port.js';
import type { DeviceOps } from './reconciler.js';
import type { DesiredNetwork } from './desired-state.js';

export function hostDeviceOps(opts: { defaultMtu: number; maxMtu: number; log: Logger; offload?: boolean; multiQueue?: boolean }): DeviceOps {
  // Multi-queue when data-plane workers attach queues of their own (io/dataplane-workers.ts).
  const tapOpts = { offload: opts.offload ?? false, multiQueue: opts.multiQueue ?? false };
  return {
    async setup(net: DesiredNetwork) {
      // The data plane's slots are sized for maxMtu; a larger network MTU is capped.
      const mtu = Math.min(net.mtu ?? opts.defaultMtu, opts.maxMtu);
      if (net.mtu && net.mtu > opts.maxMtu) opts.log.warn({ network: net.name, mtu: net.mtu, cap: opts.maxMtu }, 'network MTU above what the underlay carries; capped');
      const tapDev = tapName(net.vni);
      await ensureBridge(net.vni, { mtu });
      let tap: NativeTapPort;
      try {
        tap = NativeTapPort.open(tapDev, tapOpts);
      } catch (e) {
        // A persistent TAP of that name with other flags (left by another tool) blocks
        // TUNSETIFF; remove it once and retry.
        await deleteLinkIfExists(tapDev);
        tap = NativeTapPort.open(tapDev, tapOpts);
      }
      try {
        await attachTap(net.vni, { mtu });
      } catch (e) {
        tap.close();
        throw e;
      }
      opts.log.info({ network: net.name, vni: net.vni, bridge: bridgeName(net.vni), tap: tapDev, mtu, offload: tapOpts.offload }, 'network devices ready');
      return { tap, mtu, spec: { vni: net.vni, name: net.name, tapName: tapDev } };
    },
    async teardown(vni: number) {
      await removeNetwork(vni, {});
      opts.log.info({ vni }, 'network devices removed');
    },
  };
}

/** Devices of networks that are no longer wanted, left by a previous run, are removed at start. */
export async function removeLeftovers(keep: Set<number>, log: Logger): Promise<number[]> {
  const removed: number[] = [];
  for (const vni of await listManagedNetworks({})) {
    if (keep.has(vni)) continue;
    await removeNetwork(vni, {});
    removed.push(vni);
  }
  if (removed.length) log.info({ vnis: removed }, 'removed devices left by a previous run');
  return removed;
}
