#include "tcp_offload.h"

#include <cstring>

#include "csum.h"

namespace ovnet {

constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08, kTcpUrg = 0x20,
                  kTcpCwr = 0x80;
constexpr uint8_t kIpProtoTcp = 6;
// IPv4 total length and IPv6 payload length are 16-bit fields.
constexpr uint32_t kMaxIpLength = 65535;

VnetHdr ReadVnet(const uint8_t* p) {
  VnetHdr h;
  h.flags = p[0];
  h.gsoType = p[1];
  h.hdrLen = static_cast<uint16_t>(p[2] | (p[3] << 8));
  h.gsoSize = static_cast<uint16_t>(p[4] | (p[5] << 8));
  h.csumStart = static_cast<uint16_t>(p[6] | (p[7] << 8));
  h.csumOffset = static_cast<uint16_t>(p[8] | (p[9] << 8));
  return h;
}

void WriteVnet(uint8_t* p, const VnetHdr& h) {
  const uint16_t v[4] = {h.hdrLen, h.gsoSize, h.csumStart, h.csumOffset};
  p[0] = h.flags;
  p[1] = h.gsoType;
  for (int i = 0; i < 4; i++) {
    p[2 + 2 * i] = static_cast<uint8_t>(v[i]);
    p[3 + 2 * i] = static_cast<uint8_t>(v[i] >> 8);
  }
  p[10] = 0;
  p[11] = 0;
}

// HOT PATH
static bool ParseIp(const uint8_t* f, uint32_t len, uint32_t l3, uint16_t type, uint32_t l4hint, TcpFrame* t) {
  if (type == 0x0800) {
    if (len < l3 + 20 || (f[l3] >> 4) != 4) return false;
    uint32_t ihl = (f[l3] & 0x0fu) * 4;
    bool fragment = (Be16(f + l3 + 6) & 0x3fff) != 0;
    if (ihl < 20 || f[l3 + 9] != kIpProtoTcp || fragment) return false;
    t->l4 = l3 + ihl;
    t->ipEnd = l3 + Be16(f + l3 + 2);
    t->v6 = false;
    return t->ipEnd >= t->l4 && t->ipEnd <= len;
  }
  if (type != 0x86dd || len < l3 + 40 || (f[l3] >> 4) != 6) return false;
  t->ipEnd = l3 + 40 + Be16(f + l3 + 4);
  t->v6 = true;
  if (t->ipEnd > len) return false;
  if (f[l3 + 6] == kIpProtoTcp) {
    t->l4 = l3 + 40;
  } else if (l4hint > l3 + 40 && l4hint < t->ipEnd) {
    t->l4 = l4hint;  // extension headers: the kernel's csum_start marks the TCP header
  } else {
    return false;
  }
  return true;
}

// HOT PATH
bool ParseTcp(const uint8_t* f, uint32_t len, uint32_t l4hint, TcpFrame* t) {
  if (len < 14) return false;
  uint32_t l3 = 14;
  uint16_t type = Be16(f + 12);
  if (type == 0x8100 || type == 0x88a8) {
    if (len < 18) return false;
    type = Be16(f + 16);
    l3 = 18;
  }
  t->l3 = l3;
  if (!ParseIp(f, len, l3, type, l4hint, t)) return false;
  if (t->ipEnd < t->l4 + 20) return false;
  uint32_t doff = (f[t->l4 + 12] >> 4) * 4u;
  if (doff < 20 || t->l4 + doff > t->ipEnd) return false;
  t->hdrLen = t->l4 + doff;
  t->payload = t->ipEnd - t->hdrLen;
  return t->hdrLen <= kMaxHeaders;
}

// HOT PATH: the pseudo-header's addresses (IPv4 12..20, IPv6 8..40 of the IP header).
static uint64_t AddrSum(const uint8_t* f, const TcpFrame& t) {
  return t.v6 ? CsumAdd(f + t.l3 + 8, 32, 0) : CsumAdd(f + t.l3 + 12, 8, 0);
}

// HOT PATH: the rest of the pseudo-header for a TCP segment of `tcpLen` bytes.
static uint64_t PseudoSum(const TcpFrame& t, uint32_t tcpLen, uint64_t acc) {
  uint8_t b[8] = {0, 0, 0, 0, 0, 0, 0, kIpProtoTcp};
  if (t.v6) {
    PutBe32(b, tcpLen);
    return CsumAdd(b, 8, acc);
  }
  b[5] = kIpProtoTcp;
  PutBe16(b + 6, tcpLen);
  return CsumAdd(b + 4, 4, acc);
}

// HOT PATH: IPv4 total length / IPv6 payload length for a TCP segment of `tcpLen` bytes.
static void SetIpLength(uint8_t* f, const TcpFrame& t, uint32_t tcpLen) {
  uint8_t* ip = f + t.l3;
  if (t.v6) {
    PutBe16(ip + 4, t.l4 - t.l3 - 40 + tcpLen);
    return;
  }
  uint32_t ihl = t.l4 - t.l3;
  PutBe16(ip + 2, ihl + tcpLen);
  ip[10] = 0;
  ip[11] = 0;
  StoreCsum(ip + 10, static_cast<uint16_t>(~CsumFold(CsumAdd(ip, ihl, 0))));
}

// ---- segmentation ----

// HOT PATH
bool PlanSegments(const uint8_t* f, uint32_t len, const VnetHdr& h, uint32_t maxFrame, SegPlan* p) {
  uint32_t hint = (h.flags & kVnetNeedsCsum) ? h.csumStart : 0;
  if (!ParseTcp(f, len, hint, &p->t)) return false;
  uint8_t gso = h.gsoType & static_cast<uint8_t>(~kGsoEcn);
  if ((gso == kGsoTcpV6) != p->t.v6 || maxFrame <= p->t.hdrLen) return false;
  uint32_t mss = maxFrame - p->t.hdrLen;
  if (h.gsoSize != 0 && h.gsoSize < mss) mss = h.gsoSize;
  p->mss = mss;
  p->count = p->t.payload == 0 ? 1 : (p->t.payload + mss - 1) / mss;
  p->addrSum = AddrSum(f, p->t);
  return true;
}

// HOT PATH
void WriteSegmentHeaders(const uint8_t* f, const SegPlan& p, uint32_t k, uint8_t* out) {
  const TcpFrame& t = p.t;
  std::memcpy(out, f, t.hdrLen);
  uint32_t plen = SegmentPayloadLen(p, k);
  uint32_t tcpHdr = t.hdrLen - t.l4;
  if (!t.v6) PutBe16(out + t.l3 + 4, Be16(f + t.l3 + 4) + k);
  SetIpLength(out, t, tcpHdr + plen);
  uint8_t* tcp = out + t.l4;
  PutBe32(tcp + 4, Be32(f + t.l4 + 4) + k * p.mss);
  uint8_t flags = f[t.l4 + 13];
  if (k > 0) flags &= static_cast<uint8_t>(~kTcpCwr);
  if (k + 1 < p.count) flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
  tcp[13] = flags;
  tcp[16] = 0;
  tcp[17] = 0;
  uint64_t sum = PseudoSum(t, tcpHdr + plen, p.addrSum);
  sum = CsumAdd(tcp, tcpHdr, sum);
  sum = CsumAdd(f + SegmentPayloadAt(p, k), plen, sum);
  StoreCsum(tcp + 16, static_cast<uint16_t>(~CsumFold(sum)));
}

// HOT PATH
bool CompleteChecksum(uint8_t* f, uint32_t len, const VnetHdr& h) {
  if ((h.flags & kVnetNeedsCsum) == 0) return true;
  uint32_t start = h.csumStart, at = start + h.csumOffset;
  if (start >= len || at + 2 > len) return false;
  uint16_t c = static_cast<uint16_t>(~CsumFold(CsumAdd(f + start, len - start, 0)));
  // In UDP a zero checksum means "none": the kernel sends all ones instead.
  if (c == 0 && h.csumOffset == 6) c = 0xffff;
  StoreCsum(f + at, c);
  return true;
}

// ---- coalescing ----

// HOT PATH: a segment that may join a super-frame: exact IP length (no padding), payload,
// no IPv4 options, a valid IPv4 header checksum, and no SYN, RST or URG.
static bool Mergeable(const uint8_t* f, uint32_t len, TcpFrame* t) {
  if (!ParseTcp(f, len, 0, t) || t->ipEnd != len || t->payload == 0) return false;
  if (!t->v6 && (t->l4 - t->l3 != 20 || CsumFold(CsumAdd(f + t->l3, 20, 0)) != 0xffff)) return false;
  return (f[t->l4 + 13] & (kTcpSyn | kTcpRst | kTcpUrg)) == 0;
}

// HOT PATH: everything but lengths, IDs, sequence numbers, checksums and FIN/PSH/CWR agrees.
static bool SameFlow(const uint8_t* a, const TcpFrame& ta, const uint8_t* b, const TcpFrame& tb) {
  if (ta.l4 != tb.l4 || ta.hdrLen != tb.hdrLen || ta.v6 != tb.v6 || std::memcmp(a, b, ta.l3) != 0) return false;
  const uint8_t *ia = a + ta.l3, *ib = b + tb.l3;
  bool ipSame = ta.v6 ? std::memcmp(ia, ib, 4) == 0 && ia[7] == ib[7] && std::memcmp(ia + 8, ib + 8, 32) == 0
                      : ia[1] == ib[1] && ia[6] == ib[6] && ia[8] == ib[8] && std::memcmp(ia + 12, ib + 12, 8) == 0;
  if (!ipSame) return false;
  const uint8_t *ha = a + ta.l4, *hb = b + tb.l4;
  constexpr uint8_t kFree = kTcpFin | kTcpPsh | kTcpCwr;
  if ((hb[13] & kTcpCwr) != 0 || (ha[13] & ~kFree) != (hb[13] & ~kFree)) return false;
  // Ports, ack, data offset, window, urgent pointer, options.
  return std::memcmp(ha, hb, 4) == 0 && std::memcmp(ha + 8, hb + 8, 5) == 0 && std::memcmp(ha + 14, hb + 14, 2) == 0 &&
         std::memcmp(ha + 18, hb + 18, ta.hdrLen - ta.l4 - 18) == 0;
}

// HOT PATH: b continues the byte stream right after p, and the IPv4 ID counts up (or, with DF
// set, stays fixed, as Linux GRO accepts).
static bool Follows(const uint8_t* p, const TcpFrame& tp, const uint8_t* b, const TcpFrame& tb) {
  if (Be32(b + tb.l4 + 4) != Be32(p + tp.l4 + 4) + tp.payload) return false;
  if (tb.v6) return true;
  uint16_t idp = Be16(p + tp.l3 + 4), idb = Be16(b + tb.l3 + 4);
  return idb == static_cast<uint16_t>(idp + 1) || (idb == idp && (b[tb.l3 + 6] & 0x40) != 0);
}

// HOT PATH
static bool VerifyTcp(const uint8_t* f, const TcpFrame& t) {
  uint64_t sum = PseudoSum(t, t.ipEnd - t.l4, AddrSum(f, t));
  return CsumFold(CsumAdd(f + t.l4, t.ipEnd - t.l4, sum)) == 0xffff;
}

// HOT PATH
uint32_t FindRun(const FrameRef* fr, uint32_t n, Run* run) {
  run->count = 1;
  TcpFrame& h = run->head;
  if (n < 2 || !Mergeable(fr[0].p, fr[0].len, &h)) return 1;
  run->headFlags = run->lastFlags = fr[0].p[h.l4 + 13];
  if (run->headFlags & (kTcpFin | kTcpPsh)) return 1;
  run->gsoSize = run->payload = h.payload;
  uint32_t ipHeaders = h.hdrLen - h.l3 - (h.v6 ? 40 : 0);
  TcpFrame prev = h, t;
  const uint8_t* pp = fr[0].p;
  for (uint32_t j = 1; j < n; j++) {
    const uint8_t* b = fr[j].p;
    if (!Mergeable(b, fr[j].len, &t) || !SameFlow(fr[0].p, h, b, t) || !Follows(pp, prev, b, t)) break;
    if (t.payload > run->gsoSize || ipHeaders + run->payload + t.payload > kMaxIpLength) break;
    // Checked only once a merge is possible: a frame written as it is gets the kernel's check.
    if (j == 1 && !VerifyTcp(fr[0].p, h)) return 1;
    if (!VerifyTcp(b, t)) break;
    run->count++;
    run->payload += t.payload;
    run->lastFlags = b[t.l4 + 13];
    if (t.payload < run->gsoSize || (run->lastFlags & (kTcpFin | kTcpPsh))) break;
    prev = t;
    pp = b;
  }
  return run->count;
}

// HOT PATH
void WriteRunHeaders(const FrameRef& head, const Run& run, uint8_t* out) {
  const TcpFrame& t = run.head;
  VnetHdr v;
  v.flags = kVnetNeedsCsum;
  v.gsoType = t.v6 ? kGsoTcpV6 : kGsoTcpV4;
  if (run.headFlags & kTcpCwr) v.gsoType |= kGsoEcn;
  v.hdrLen = static_cast<uint16_t>(t.hdrLen);
  v.gsoSize = static_cast<uint16_t>(run.gsoSize);
  v.csumStart = static_cast<uint16_t>(t.l4);
  v.csumOffset = 16;
  WriteVnet(out, v);
  uint8_t* f = out + kVnetHdrLen;
  std::memcpy(f, head.p, t.hdrLen);
  uint32_t tcpLen = t.hdrLen - t.l4 + run.payload;
  SetIpLength(f, t, tcpLen);
  uint8_t* tcp = f + t.l4;
  tcp[13] = static_cast<uint8_t>(run.headFlags | (run.lastFlags & (kTcpFin | kTcpPsh)));
  // NEEDS_CSUM: the field holds the pseudo-header sum, the kernel adds the rest.
  StoreCsum(tcp + 16, CsumFold(PseudoSum(t, tcpLen, AddrSum(head.p, t))));
}

}  // namespace ovnet
