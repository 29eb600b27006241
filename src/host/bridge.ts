/**
 * The per-network bridge ovbr-<VNI> (COLD PATH). Idempotent: an existing bridge with other
 * settings is fixed in place (its ports stay attached); a non-bridge holding the name is an
 * error, never deleted.
 */
import { getLink, setLink, deleteLinkIfExists, disableAddrGen, linkChanges, requireKind, validateMtu, type DeviceOptions, type LinkInfo } from './links.js';
import { OvnError } from '../lib/errors.js';
import { ip, isIprouteError } from './iproute2.js';
import { bridgeName } from './names.js';

export interface BridgeOptions extends DeviceOptions {
  mtu: number;
}

/** What an ensure call did: `created` says whether a rollback should delete the device. */
export interface EnsureResult {
  name: string;
  created: boolean;
  /** `ip link set` words applied to an existing device, e.g. ["mtu", "1450", "up"]. */
  changed: string[];
}

export async function ensureBridge(vni: number, opts: BridgeOptions): Promise<EnsureResult> {
  const name = bridgeName(vni);
  validateMtu(opts.mtu);
  // Two rounds: if someone else creates the name between our look and our add, converge on theirs.
  for (let round = 0; round < 2; round++) {
    const existing = await getLink(name, opts);
    if (existing) return { name, created: false, changed: await fixBridge(existing, opts) };
    if (await createBridge(name, opts)) {
      await finishNewBridge(name, opts);
      return { name, created: true, changed: [] };
    }
  }
  throw new OvnError('OVN_ERR_DEVICE', `${name} appeared and vanished while being created; is another agent managing it?`);
}

/** Address generation off before the first up; a bridge this call made is removed if that fails. */
async function finishNewBridge(name: string, opts: BridgeOptions): Promise<void> {
  try {
    const link = await getLink(name, opts);
    if (link) await disableAddrGen(link, opts);
    await setLink(name, ['up'], opts);
  } catch (e) {
    await deleteLinkIfExists(name, opts).catch(() => undefined);
    throw e;
  }
}

/**
 * Creates the bridge with an explicit MTU, which the kernel then keeps (it would otherwise
 * follow its smallest port). False when the name was taken meanwhile.
 */
async function createBridge(name: string, opts: BridgeOptions): Promise<boolean> {
  try {
    await ip(['link', 'add', 'name', name, 'mtu', String(opts.mtu), 'type', 'bridge'], opts);
    return true;
  } catch (e) {
    if (isIprouteError(e, 'exists')) return false;
    throw e;
  }
}

async function fixBridge(link: LinkInfo, opts: BridgeOptions): Promise<string[]> {
  requireKind(link, 'bridge', 'a bridge');
  const changes = linkChanges(link, { mtu: opts.mtu, up: true });
  await setLink(link.name, changes, opts);
  return changes;
}

/** Ensures an existing bridge has `mtu` and is up; throws OVN_ERR_NOT_FOUND when it is missing. */
export async function fixExistingBridge(vni: number, opts: BridgeOptions): Promise<string[]> {
  const name = bridgeName(vni);
  const link = await getLink(name, opts);
  if (!link) throw new OvnError('OVN_ERR_NOT_FOUND', `bridge ${name} does not exist (ensureBridge first)`);
  return fixBridge(link, opts);
}
