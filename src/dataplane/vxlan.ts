/**
 * VXLAN header codec (RFC 7348 section 5):
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |R|R|R|R|I|R|R|R|            Reserved                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                VXLAN Network Identifier (VNI) |   Reserved    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RECEIVE POLICY. The RFC says reserved fields are "ignored on receipt"; we follow Linux's vxlan
 * driver instead: a header whose I flag is clear, or with any reserved bit or byte set, is
 * dropped and counted. A sender that sets them speaks an extension (GBP, GPE, remote checksum
 * offload...) whose payload need not be plain Ethernet, and bridging it as Ethernet would inject
 * garbage frames into the overlay. decodeVxlan never throws, whatever the bytes.
 */

export const VXLAN_PORT = 4789;
export const VXLAN_HLEN = 8;
export const VXLAN_FLAG_I = 0x08;
export const MAX_VNI = 0xffffff;

/** Drop reasons returned by decodeVxlan (negative so that any VNI, including 0, is >= 0). */
export const VXLAN_TOO_SHORT = -1;
export const VXLAN_BAD_FLAGS = -2;
export const VXLAN_RESERVED_BITS = -3;

export function isValidVni(vni: unknown): vni is number {
  return typeof vni === 'number' && Number.isInteger(vni) && vni >= 0 && vni <= MAX_VNI;
}

/** COLD PATH: the 8 header bytes for a VNI, built once per network and copied per packet. */
export function buildVxlanHeader(vni: number, out: Uint8Array = new Uint8Array(VXLAN_HLEN), at = 0): Uint8Array {
  out.fill(0, at, at + VXLAN_HLEN);
  out[at] = VXLAN_FLAG_I;
  out[at + 4] = (vni >>> 16) & 0xff;
  out[at + 5] = (vni >>> 8) & 0xff;
  out[at + 6] = vni & 0xff;
  return out;
}

/** Copies a prebuilt header (headers[from..from+8)) to buf[off..off+8). */
// HOT PATH
export function writeVxlanHeader(buf: Uint8Array, off: number, headers: Uint8Array, from: number): void {
  buf[off] = headers[from];
  buf[off + 1] = headers[from + 1];
  buf[off + 2] = headers[from + 2];
  buf[off + 3] = headers[from + 3];
  buf[off + 4] = headers[from + 4];
  buf[off + 5] = headers[from + 5];
  buf[off + 6] = headers[from + 6];
  buf[off + 7] = headers[from + 7];
}

/**
 * The VNI of the datagram buf[off..off+len), or a negative VXLAN_* drop reason.
 * Reads only inside both the datagram and the buffer.
 */
// HOT PATH
export function decodeVxlan(buf: Uint8Array, off: number, len: number): number {
  if (len < VXLAN_HLEN || off < 0 || off + VXLAN_HLEN > buf.length) return VXLAN_TOO_SHORT;
  const flags = buf[off];
  if ((flags & VXLAN_FLAG_I) === 0) return VXLAN_BAD_FLAGS;
  if ((flags & ~VXLAN_FLAG_I) !== 0 || (buf[off + 1] | buf[off + 2] | buf[off + 3] | buf[off + 7]) !== 0) {
    return VXLAN_RESERVED_BITS;
  }
  return (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
}
