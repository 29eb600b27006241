// TCP segmentation and coalescing: the byte work behind the TAP's virtio_net_hdr offloads.
// Pure functions over byte ranges (no system calls, no JavaScript), shared by the UDP GSO send
// path, the TAP write path and the test exports. Which frames go where is decided in
// TypeScript; this only splits, joins and checksums.
//
// Segmentation (TAP -> underlay): a super-frame read from the TAP (gso_type TCPV4/TCPV6,
// gso_size = MSS) becomes MSS-sized frames, each with its own IPv4 total length, ID (+1 per
// segment) and header checksum or IPv6 payload length, TCP sequence number, flags (FIN and PSH
// on the last segment only, CWR on the first only) and full TCP checksum.
//
// Coalescing (underlay -> TAP): consecutive TCP segments of one flow (same addresses, ports,
// ack, window and options; consecutive sequence numbers; equal payload sizes except a shorter
// last one; IPv4 without options or fragments and with consecutive IDs) whose checksums verify
// become one super-frame with a NEEDS_CSUM/GSO virtio_net_hdr, the inverse of segmentation.
#pragma once

#include <cstdint>

namespace ovnet {

// virtio_net_hdr with num_buffers (TUNSETVNETHDRSZ 12), little-endian fields.
constexpr uint32_t kVnetHdrLen = 12;
constexpr uint8_t kVnetNeedsCsum = 1;
constexpr uint8_t kGsoNone = 0;
constexpr uint8_t kGsoTcpV4 = 1;
constexpr uint8_t kGsoTcpV6 = 4;
constexpr uint8_t kGsoEcn = 0x80;
// Ethernet + tag, IP with options or extension headers, TCP with options: longer is refused.
constexpr uint32_t kMaxHeaders = 256;

struct VnetHdr {
  uint8_t flags = 0;
  uint8_t gsoType = 0;
  uint16_t hdrLen = 0;
  uint16_t gsoSize = 0;
  uint16_t csumStart = 0;
  uint16_t csumOffset = 0;
};

VnetHdr ReadVnet(const uint8_t* p);
// Writes all kVnetHdrLen bytes (num_buffers 0).
void WriteVnet(uint8_t* p, const VnetHdr& h);

struct TcpFrame {
  uint32_t l3 = 0;      // IP header
  uint32_t l4 = 0;      // TCP header
  uint32_t hdrLen = 0;  // end of the TCP options
  uint32_t ipEnd = 0;   // end of the IP packet; frame bytes after it are padding
  uint32_t payload = 0;
  bool v6 = false;
};

// An Ethernet frame (at most one 802.1Q/802.1ad tag) carrying TCP over IPv4 (not a fragment)
// or IPv6. `l4hint` (csum_start, or 0) lets IPv6 extension headers be stepped over.
bool ParseTcp(const uint8_t* f, uint32_t len, uint32_t l4hint, TcpFrame* t);

struct SegPlan {
  TcpFrame t;
  uint32_t mss = 0;
  uint32_t count = 0;
  uint64_t addrSum = 0;  // pseudo-header addresses, the same for every segment
};

// Plans the split of a GSO super-frame into frames of at most `maxFrame` bytes and at most
// gso_size payload bytes each. False when the frame is not the TCP frame its header claims.
bool PlanSegments(const uint8_t* f, uint32_t len, const VnetHdr& h, uint32_t maxFrame, SegPlan* plan);
inline uint32_t SegmentPayloadAt(const SegPlan& p, uint32_t k) {
  return p.t.hdrLen + k * p.mss;
}
inline uint32_t SegmentPayloadLen(const SegPlan& p, uint32_t k) {
  return k + 1 < p.count ? p.mss : p.t.payload - k * p.mss;
}
// Segment k's headers (plan.t.hdrLen bytes) into `out`, checksums included; its payload is
// f[SegmentPayloadAt(k), +SegmentPayloadLen(k)).
void WriteSegmentHeaders(const uint8_t* f, const SegPlan& plan, uint32_t k, uint8_t* out);

// Fills in the checksum a NEEDS_CSUM frame leaves partial (at csum_start + csum_offset over
// csum_start..len). False when those offsets lie outside the frame.
bool CompleteChecksum(uint8_t* f, uint32_t len, const VnetHdr& h);

struct FrameRef {
  const uint8_t* p;
  uint32_t len;
};

struct Run {
  uint32_t count = 1;
  uint32_t gsoSize = 0;
  uint32_t payload = 0;
  uint8_t headFlags = 0;
  uint8_t lastFlags = 0;
  TcpFrame head;
};

// How many of frames[0, n) (at least 1) coalesce into one super-frame starting at frames[0].
// A count of 1 means frames[0] goes out as it is.
uint32_t FindRun(const FrameRef* frames, uint32_t n, Run* run);
// The virtio_net_hdr and the super-frame's headers (kVnetHdrLen + run.head.hdrLen bytes);
// the payload of frame k of the run follows at frames[k].p + run.head.hdrLen.
void WriteRunHeaders(const FrameRef& head, const Run& run, uint8_t* out);

}  // namespace ovnet
