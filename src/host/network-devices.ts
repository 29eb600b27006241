/**
 * A network's devices as a whole: bridge ovbr-<VNI> plus TAP ovtap-<VNI> as its port (COLD PATH).
 *
 * Order of creation (the TAP is not ours to create): the bridge first; then the agent opens the
 * TAP through the native addon (TUNSETIFF, not persistent: it vanishes when the agent's fd
 * closes); then attachTap makes it a port of the bridge with the overlay MTU and brings both up.
 * ensureNetwork runs those steps and, when one fails, undoes only what it did itself.
 */
import { OvnError } from '../lib/errors.js';
import { ensureBridge, fixExistingBridge, type EnsureResult } from './bridge.js';
import { deleteLinkIfExists, disableAddrGen, getLink, linkChanges, listLinks, requireKind, setLink, validateMtu, type DeviceOptions } from './links.js';
import { bridgeName, parseDeviceName, tapName, validateVni } from './names.js';

// The agent sets a network up from here alone, so the pieces it needs are exported here too.
export { ensureBridge, type BridgeOptions, type EnsureResult } from './bridge.js';
export { deleteLinkIfExists, type DeviceOptions } from './links.js';

export interface TapAttachOptions extends DeviceOptions {
  mtu: number;
}

/**
 * Makes the existing TAP ovtap-<VNI> a port of ovbr-<VNI>, with `mtu`, and both up.
 * OVN_ERR_NOT_FOUND when either device is missing; OVN_ERR_DEVICE when the name holds a non-TAP.
 */
export async function attachTap(vni: number, opts: TapAttachOptions): Promise<EnsureResult> {
  const name = tapName(vni);
  validateMtu(opts.mtu);
  const bridgeChanges = await fixExistingBridge(vni, opts);
  const tap = await getLink(name, opts);
  if (!tap) throw new OvnError('OVN_ERR_NOT_FOUND', `TAP ${name} does not exist (the agent creates it by opening /dev/net/tun before attaching)`);
  requireKind(tap, 'tun', 'a TAP');
  // Before the TAP goes up, so it never gets an IPv6 link-local address.
  await disableAddrGen(tap, opts);
  const changes = linkChanges(tap, { master: bridgeName(vni), mtu: opts.mtu, up: true });
  await setLink(name, changes, opts);
  return { name, created: false, changed: [...bridgeChanges.map((w) => `bridge:${w}`), ...changes] };
}

export interface EnsureNetworkOptions<T> extends DeviceOptions {
  mtu: number;
  /**
   * Creates the TAP (the agent's native open), called once the bridge exists. Without it the
   * TAP must exist already. Its result is handed back, and to closeTap on rollback.
   */
  openTap?: (tapName: string) => T | Promise<T>;
  /** Undoes openTap when a later step fails (closing the fd removes a non-persistent TAP). */
  closeTap?: (tap: T) => void | Promise<void>;
}

export interface NetworkDevices<T> {
  vni: number;
  bridge: string;
  tap: string;
  /** Whether this call created the bridge. */
  createdBridge: boolean;
  /** Settings fixed on devices that existed, e.g. ["bridge:mtu", "bridge:1450", "up"]. */
  changed: string[];
  /** openTap's result, when openTap was given. */
  tapHandle: T | undefined;
}

export async function ensureNetwork<T = undefined>(vni: number, opts: EnsureNetworkOptions<T>): Promise<NetworkDevices<T>> {
  validateVni(vni);
  const bridge = await ensureBridge(vni, opts);
  const undo: Array<() => Promise<unknown>> = [];
  if (bridge.created) undo.push(() => deleteLinkIfExists(bridge.name, opts));
  try {
    let tapHandle: T | undefined;
    if (opts.openTap) {
      const handle = await opts.openTap(tapName(vni));
      tapHandle = handle;
      if (opts.closeTap) undo.push(async () => opts.closeTap?.(handle));
    }
    const tap = await attachTap(vni, opts);
    return {
      vni, bridge: bridge.name, tap: tap.name, createdBridge: bridge.created,
      changed: [...bridge.changed.map((w) => `bridge:${w}`), ...tap.changed], tapHandle,
    };
  } catch (e) {
    throw await rollback(undo, e);
  }
}

/** Runs undo steps newest first; a step that fails is noted on the original error, not thrown. */
async function rollback(undo: Array<() => Promise<unknown>>, err: unknown): Promise<unknown> {
  const failures: string[] = [];
  for (const step of undo.reverse()) {
    try { await step(); } catch (e) { failures.push(e instanceof Error ? e.message : String(e)); }
  }
  if (failures.length > 0 && err instanceof Error) err.message += ` (rollback also failed: ${failures.join('; ')})`;
  return err;
}

export interface RemoveNetworkOptions extends DeviceOptions {
  /** Also delete the veths that are ports of the bridge (endpoints of this network). */
  endpoints?: boolean;
}

/**
 * Deletes the network's devices that exist: endpoint veths (if asked), a leftover persistent
 * TAP, the bridge. Returns the names deleted; absent devices are not an error. A live TAP is
 * the agent's: close it first. A name held by a device of the wrong kind is left alone
 * (OVN_ERR_DEVICE), as it is not ours.
 */
export async function removeNetwork(vni: number, opts: RemoveNetworkOptions = {}): Promise<string[]> {
  const bridge = bridgeName(vni);
  const tap = tapName(vni);
  const removed: string[] = [];
  const bridgeLink = await getLink(bridge, opts);
  if (bridgeLink) requireKind(bridgeLink, 'bridge', 'a bridge');
  if (bridgeLink && opts.endpoints) {
    for (const port of await listLinks({ ...opts, master: bridge })) {
      if (port.kind === 'veth' && await deleteLinkIfExists(port.name, opts)) removed.push(port.name);
    }
  }
  const tapLink = await getLink(tap, opts);
  if (tapLink) {
    requireKind(tapLink, 'tun', 'a TAP');
    if (await deleteLinkIfExists(tap, opts)) removed.push(tap);
  }
  if (bridgeLink && await deleteLinkIfExists(bridge, opts)) removed.push(bridge);
  return removed;
}

/**
 * VNIs that have an ovbr-<VNI> or ovtap-<VNI> device, ascending: the agent compares them with
 * its configuration at start and removes networks left over from a previous life.
 */
export async function listManagedNetworks(opts: DeviceOptions = {}): Promise<number[]> {
  const vnis = new Set<number>();
  for (const link of await listLinks(opts)) {
    const parsed = parseDeviceName(link.name);
    if (parsed) vnis.add(parsed.vni);
  }
  return [...vnis].sort((a, b) => a - b);
}
