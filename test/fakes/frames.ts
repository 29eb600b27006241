/** Builders of Ethernet frames and VXLAN datagrams for tests (cold, readable, allocating). */
import { parseMac, writeMac } from '../../src/dataplane/ethernet.js';
import { buildVxlanHeader } from '../../src/dataplane/vxlan.js';

export const BROADCAST = 'ff:ff:ff:ff:ff:ff';

export interface FrameSpec {
  dst: string;
  src: string;
  /** Ethertype (default 0x0806, ARP). */
  type?: number;
  /** 802.1Q tag: VLAN id. */
  vlan?: number;
  payload?: Uint8Array;
  /** Pad the payload with zeros to at least this many bytes (default 46, Ethernet's minimum). */
  minPayload?: number;
}

function mac(text: string): { hi: number; lo: number } {
  const m = parseMac(text);
  if (!m) throw new Error(`bad MAC ${text}`);
  return m;
}

export function ethFrame(s: FrameSpec): Buffer {
  const tag = s.vlan === undefined ? 0 : 4;
  const payload = s.payload ?? new Uint8Array(0);
  const body = Math.max(payload.length, s.minPayload ?? 46);
  const f = Buffer.alloc(14 + tag + body);
  const d = mac(s.dst);
  const src = mac(s.src);
  writeMac(f, 0, d.hi, d.lo);
  writeMac(f, 6, src.hi, src.lo);
  if (s.vlan !== undefined) {
    f.writeUInt16BE(0x8100, 12);
    f.writeUInt16BE(s.vlan & 0x0fff, 14);
  }
  f.writeUInt16BE(s.type ?? 0x0806, 12 + tag);
  f.set(payload, 14 + tag);
  return f;
}

/** An IPv4 packet (header + 8 bytes of L4 ports/length) inside an Ethernet frame. */
export function ipv4Frame(o: { dst: string; src: string; ipSrc: number[]; ipDst: number[]; proto: number; sport?: number; dport?: number; fragOffset?: number; moreFragments?: boolean }): Buffer {
  const ip = Buffer.alloc(28);
  ip[0] = 0x45;
  ip.writeUInt16BE(28, 2);
  ip.writeUInt16BE(((o.moreFragments ? 1 : 0) << 13) | (o.fragOffset ?? 0), 6);
  ip[8] = 64;
  ip[9] = o.proto;
  ip.set(o.ipSrc, 12);
  ip.set(o.ipDst, 16);
  ip.writeUInt16BE(o.sport ?? 0, 20);
  ip.writeUInt16BE(o.dport ?? 0, 22);
  return ethFrame({ dst: o.dst, src: o.src, type: 0x0800, payload: ip });
}

/** An IPv6 packet (fixed header + 8 bytes of L4) inside an Ethernet frame. */
export function ipv6Frame(o: { dst: string; src: string; ipSrc: number[]; ipDst: number[]; next: number; sport?: number; dport?: number }): Buffer {
  const ip = Buffer.alloc(48);
  ip[0] = 0x60;
  ip.writeUInt16BE(8, 4);
  ip[6] = o.next;
  ip[7] = 64;
  ip.set(o.ipSrc, 8);
  ip.set(o.ipDst, 24);
  ip.writeUInt16BE(o.sport ?? 0, 40);
  ip.writeUInt16BE(o.dport ?? 0, 42);
  return ethFrame({ dst: o.dst, src: o.src, type: 0x86dd, payload: ip });
}

/** A VXLAN datagram (UDP payload) carrying the frame. */
export function vxlanDatagram(vni: number, frame: Uint8Array): Buffer {
  return Buffer.concat([buildVxlanHeader(vni), frame]);
}
