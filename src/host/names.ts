/**
 * Deterministic device names (after libnetwork: the name alone says what a device is, so
 * leftovers from a previous run can be found and removed without any saved state).
 *
 *   ovbr-<VNI>   the network's bridge        (VNI decimal, no leading zeros: "ovbr-42")
 *   ovtap-<VNI>  the network's TAP           ("ovtap-16777215" is 14 characters)
 *   ovv<hash12>  an endpoint veth, host side (in the bridge; its VNI is the bridge's)
 *   ovp<hash12>  the same veth's peer, until it is renamed (e.g. to eth0) in the endpoint's netns
 *
 * Endpoint veths carry a hash rather than "ovv-<VNI>-<hash>": with a 15-character limit an
 * 8-digit VNI would leave only 2 hash digits (collisions after a dozen endpoints); 12 hex digits
 * (48 bits) of sha256(vni, endpoint id) do not collide in practice, and the VNI of a veth is
 * known from the bridge it is a port of.
 */
import { createHash } from 'node:crypto';
import { OvnError } from '../lib/errors.js';

/** Kernel IFNAMSIZ, including the terminating NUL: names have at most 15 characters. */
export const IFNAMSIZ = 16;
export const MAX_IFNAME_LENGTH = IFNAMSIZ - 1;
export const MIN_VNI = 1;
export const MAX_VNI = 0xff_ffff;

export const BRIDGE_PREFIX = 'ovbr-';
export const TAP_PREFIX = 'ovtap-';
export const ENDPOINT_HOST_PREFIX = 'ovv';
export const ENDPOINT_PEER_PREFIX = 'ovp';
const ENDPOINT_HASH_DIGITS = 12;

export type ManagedDeviceKind = 'bridge' | 'tap';

export function isValidVni(vni: unknown): vni is number {
  return typeof vni === 'number' && Number.isInteger(vni) && vni >= MIN_VNI && vni <= MAX_VNI;
}

/** Returns the VNI or throws OVN_ERR_INVALID. */
export function validateVni(vni: number): number {
  if (!isValidVni(vni)) throw new OvnError('OVN_ERR_INVALID', `VNI ${String(vni)} is not an integer in ${MIN_VNI}..${MAX_VNI}`);
  return vni;
}

/**
 * The kernel's rule (dev_valid_name): 1..15 characters, not "." or "..", no '/', ':' or
 * whitespace. A leading '-' is refused too, so a name can never be read as an `ip` option.
 */
export function isValidIfName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_IFNAME_LENGTH) return false;
  if (name === '.' || name === '..' || name.startsWith('-')) return false;
  return !/[/:\s\0]/.test(name);
}

/** Returns the name or throws OVN_ERR_INVALID saying what is wrong with it. */
export function validateIfName(name: string): string {
  if (isValidIfName(name)) return name;
  const why = typeof name === 'string' && (name as string).length > MAX_IFNAME_LENGTH
    ? `longer than ${MAX_IFNAME_LENGTH} characters (IFNAMSIZ)`
    : 'not a valid interface name (1-15 characters, no "/", ":", whitespace or leading "-")';
  throw new OvnError('OVN_ERR_INVALID', `interface name ${JSON.stringify(name)} is ${why}`);
}

/** Names under /var/run/netns; refuses anything that could climb out of it or look like an option. */
export function validateNetnsName(name: string): string {
  if (typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/.test(name)) return name;
  throw new OvnError('OVN_ERR_INVALID', `network namespace name ${JSON.stringify(name)} is not valid (letters, digits, "_", ".", "-")`);
}

export function bridgeName(vni: number): string {
  return BRIDGE_PREFIX + String(validateVni(vni));
}

export function tapName(vni: number): string {
  return TAP_PREFIX + String(validateVni(vni));
}

/** Strict: only names this module would produce ("ovbr-042", "ovbr-0", "ovbr-16777216" are not ours). */
export function parseDeviceName(name: string): { kind: ManagedDeviceKind; vni: number } | undefined {
  const m = typeof name === 'string' ? /^(ovbr|ovtap)-([1-9][0-9]{0,7})$/.exec(name) : null;
  if (!m) return undefined;
  const vni = Number(m[2]);
  if (!isValidVni(vni)) return undefined;
  return { kind: m[1] === 'ovbr' ? 'bridge' : 'tap', vni };
}

/** The VNI of an ovbr-<VNI> or ovtap-<VNI> device, or undefined for any other name. */
export function vniFromDeviceName(name: string): number | undefined {
  return parseDeviceName(name)?.vni;
}

/** Host-side and temporary peer names of an endpoint's veth pair; stable for (vni, endpointId). */
export function endpointVethNames(vni: number, endpointId: string): { hostIf: string; peerIf: string } {
  validateVni(vni);
  if (typeof endpointId !== 'string' || endpointId.length === 0) {
    throw new OvnError('OVN_ERR_INVALID', 'endpoint id must be a non-empty string');
  }
  const hash = createHash('sha256').update(`${vni}\0${endpointId}`).digest('hex').slice(0, ENDPOINT_HASH_DIGITS);
  return { hostIf: ENDPOINT_HOST_PREFIX + hash, peerIf: ENDPOINT_PEER_PREFIX + hash };
}

export function isEndpointVethName(name: string): boolean {
  return typeof name === 'string' && /^ovv[0-9a-f]{12}$/.test(name);
}
