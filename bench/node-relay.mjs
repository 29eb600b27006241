// The latency floor of Node over ovnetd's own native I/O, for the benchmark only:
//   node bench/node-relay.mjs TAPNAME LOCAL_IP PEER_IP VNI
// The same ports and batch shapes as the agent, but no forwarder, table, peers or learning:
// every TAP frame goes to the one peer, every datagram to the TAP. Against floor-relay.c
// (the same work in C) it shows what the Node runtime costs per hop; against ovnetd, what
// the forwarding decisions cost.
import { NativeTapPort } from '../dist/io/tap-port.js';
import { NativeUnderlayPort } from '../dist/io/udp-port.js';
import { PacketBatch, PacketList, HEADROOM, VXLAN_HEADER_LEN } from '../dist/dataplane/ports.js';

const [name, local, peer, vniArg] = process.argv.slice(2);
const vni = Number(vniArg);
const tap = NativeTapPort.open(name);
const udp = NativeUnderlayPort.open({ address: local, port: 4789, srcPorts: 0 });
udp.setPeer(0, peer, 4789);

const fromTap = new PacketBatch(), fromUdp = new PacketBatch();
const toUdp = new PacketList(fromTap.capacity), toTap = new PacketList(fromUdp.capacity);

tap.start(fromTap, (b) => {
  toUdp.reset(b.buf);
  for (let i = 0; i < b.count; i++) {
    const off = i * b.slotSize + HEADROOM - VXLAN_HEADER_LEN;
    b.buf.fill(0, off, off + VXLAN_HEADER_LEN);
    b.buf[off] = 0x08;
    b.buf.writeUIntBE(vni, off + 4, 3);
    toUdp.off[i] = off;
    toUdp.len[i] = b.len[i] + VXLAN_HEADER_LEN;
    toUdp.peer[i] = 0;
    toUdp.flow[i] = 0;
  }
  toUdp.count = b.count;
  udp.send(toUdp);
});

udp.start(fromUdp, (b) => {
  toTap.reset(b.buf);
  let n = 0;
  for (let i = 0; i < b.count; i++) {
    if (b.len[i] <= VXLAN_HEADER_LEN) continue;
    toTap.off[n] = i * b.slotSize + HEADROOM + VXLAN_HEADER_LEN;
    toTap.len[n++] = b.len[i] - VXLAN_HEADER_LEN;
  }
  toTap.count = n;
  tap.write(toTap);
});

process.on('SIGTERM', () => { tap.close(); udp.close(); process.exit(0); });
process.stderr.write('ready\n');
