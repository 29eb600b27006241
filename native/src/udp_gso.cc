// The underlay with offloads. Sending: each list entry is a VXLAN header followed by a TAP
// frame with its virtio_net_hdr; a TCP super-frame is cut into MSS-sized segments (headers
// written to the batcher's arena, payload left in place), a partial checksum is completed, and
// everything goes out through GsoBatcher as UDP GSO messages, each datagram within the
// underlay MTU. Receiving: UDP_GRO hands over several same-sized datagrams from one source in
// one read; they are split back into datagrams (offset, length, source) for the TypeScript
// decapsulation, which stays per datagram.
#include <netinet/in.h>
#include <netinet/udp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common.h"
#include "tcp_offload.h"
#include "udp.h"

namespace ovnet {

constexpr uint32_t kVxlanHdr = 8;
constexpr uint32_t kRxCtrl = 64;

// ---- COLD PATH ----

void UdpHandle::EnableGro(int fd) {
  int one = 1;
  groEnabled_ = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
}

// setMaxDatagram(bytes): the largest UDP payload the underlay MTU carries unfragmented.
Napi::Value UdpHandle::SetMaxDatagram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t n;
  if (!GetUint(env, info[0], "maxDatagram", 65507, &n)) return env.Undefined();
  if (n < 576 - 48) {
    ThrowInvalid(env, "setMaxDatagram: " + std::to_string(n) + " is below the smallest IPv6 MTU allows");
    return env.Undefined();
  }
  maxDatagram_ = n;
  gso_.Configure(n, family_ == AF_INET6 ? 65527 : 65507);
  return env.Undefined();
}

// ---- HOT PATH: send ----

// sendOffload(buf, count, off, len, peer, flow, vnet | null, vnetIdx | null) -> entries sent
Napi::Value UdpHandle::SendOffload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes buf, vnet;
  uint32_t count;
  uint32_t *off, *len;
  int32_t *peer, *vnetIdx = nullptr;
  uint16_t* flow;
  if (!GetBytes(env, info[0], "buf", &buf) || !GetUint(env, info[1], "count", 1u << 24, &count) ||
      !GetU32(env, info[2], "off", count, &off) || !GetU32(env, info[3], "len", count, &len) ||
      !GetI32(env, info[4], "peer", count, &peer) || !GetU16(env, info[5], "flow", count, &flow)) {
    return env.Undefined();
  }
  bool haveVnet = !info[6].IsNull() && !info[6].IsUndefined();
  if (haveVnet && (!GetBytes(env, info[6], "vnet", &vnet) || !GetI32(env, info[7], "vnetIdx", count, &vnetIdx))) {
    return env.Undefined();
  }
  if (poller_ == nullptr || count == 0) return Napi::Number::New(env, 0);
  ReserveTx(count);
  uint32_t valid = Bucketize(buf.len, count, off, len, peer, flow);
  std::fill(txFailed_.begin(), txFailed_.begin() + valid, 0);
  uint32_t pool = static_cast<uint32_t>(poolFds_.size());
  uint32_t buckets = pool == 0 ? 1 : pool;
  for (uint32_t s = 0; s < buckets; s++) {
    if (bucketFill_[s] == bucketStart_[s]) continue;
    gso_.Begin(pool == 0 ? poller_->fd() : poolFds_[s], txFailed_.data(), &gsoStats_);
    for (uint32_t pos = bucketStart_[s]; pos < bucketFill_[s]; pos++) {
      uint32_t i = txOrder_[pos];
      int32_t v = haveVnet ? vnetIdx[i] : -1;
      bool vnetOk = v >= 0 && static_cast<uint64_t>(v + 1) * kVnetHdrLen <= vnet.len;
      EncapEntry(buf.data + off[i], len[i], vnetOk ? vnet.data + v * kVnetHdrLen : nullptr,
                 &peers_[static_cast<uint32_t>(peer[i])], pos);
    }
    gso_.Flush();
  }
  uint32_t accepted = 0;
  for (uint32_t pos = 0; pos < valid; pos++) accepted += txFailed_[pos] == 0;
  return Napi::Number::New(env, accepted);
}

// HOT PATH: one list entry, d = VXLAN header + frame, `vnet` the frame's virtio_net_hdr.
void UdpHandle::EncapEntry(uint8_t* d, uint32_t len, uint8_t* vnet, const SockAddr* to, uint32_t pos) {
  VnetHdr h;
  if (vnet != nullptr && len > kVxlanHdr) h = ReadVnet(vnet);
  uint8_t* frame = d + kVxlanHdr;
  uint32_t flen = len > kVxlanHdr ? len - kVxlanHdr : 0;
  if ((h.gsoType & ~kGsoEcn) == kGsoNone) {
    if (!CompleteChecksum(frame, flen, h)) {
      txBadGso_++;
      txFailed_[pos] = 1;
      return;
    }
    // Flooded copies share these bytes: the checksum is complete for all of them now.
    if (vnet != nullptr) vnet[0] &= static_cast<uint8_t>(~kVnetNeedsCsum);
    gso_.Add(to, d, len, nullptr, 0, pos);
    return;
  }
  SegPlan plan;
  if (!PlanSegments(frame, flen, h, maxDatagram_ - kVxlanHdr, &plan)) {
    txBadGso_++;
    txFailed_[pos] = 1;
    return;
  }
  txSegmented_++;
  uint32_t hlen = kVxlanHdr + plan.t.hdrLen;
  for (uint32_t k = 0; k < plan.count; k++) {
    uint8_t* hdr = gso_.HeaderSpace(hlen);
    std::memcpy(hdr, d, kVxlanHdr);
    WriteSegmentHeaders(frame, plan, k, hdr + kVxlanHdr);
    gso_.Add(to, hdr, hlen, frame + SegmentPayloadAt(plan, k), SegmentPayloadLen(plan, k), pos);
  }
}

// ---- receive ----

// COLD PATH: descriptor mode (startRecv's 9th argument): off, len, srcAddr and srcPort hold
// one entry per datagram, up to off.length of them per batch.
bool UdpHandle::BindDescriptors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  rxOff_ = nullptr;
  maxPackets_ = 0;
  if (info.Length() < 9 || info[8].IsUndefined() || info[8].IsNull()) {
    // Aggregates read as one datagram would be garbage: without descriptors, no GRO.
    int zero = 0;
    if (groEnabled_ && setsockopt(poller_->fd(), SOL_UDP, UDP_GRO, &zero, sizeof zero) == 0) groEnabled_ = false;
    return true;
  }
  if (!info[8].IsTypedArray()) {
    Napi::TypeError::New(env, "off must be a Uint32Array").ThrowAsJavaScriptException();
    return false;
  }
  uint32_t n = static_cast<uint32_t>(info[8].As<Napi::TypedArray>().ElementLength());
  uint32_t *off, *len, *addr;
  uint16_t* port;
  if (!GetU32(env, info[8], "off", rx_.capacity, &off) || !GetU32(env, info[4], "len", n, &len) ||
      !GetU32(env, info[5], "srcAddr", 4 * static_cast<size_t>(n), &addr) || !GetU16(env, info[6], "srcPort", n, &port)) {
    return false;
  }
  rx_.Keep(info[8]);
  rxOff_ = off;
  maxPackets_ = n;
  rxCtrl_.assign(static_cast<size_t>(rx_.capacity) * kRxCtrl, 0);
  for (uint32_t i = 0; i < rx_.capacity; i++) {
    rxMsgs_[i].msg_hdr.msg_control = &rxCtrl_[static_cast<size_t>(i) * kRxCtrl];
  }
  return true;
}

// HOT PATH
static uint32_t GroSize(msghdr* h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(h); c != nullptr; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      return size > 0 ? static_cast<uint32_t>(size) : 0;
    }
  }
  return 0;
}

// HOT PATH
uint32_t UdpHandle::RecvBatchGro() {
  uint32_t cap = rx_.capacity;
  for (uint32_t i = 0; i < cap; i++) {
    rxMsgs_[i].msg_hdr.msg_namelen = sizeof rxFrom_[i].u;
    rxMsgs_[i].msg_hdr.msg_controllen = kRxCtrl;
  }
  int r = recvmmsg(poller_->fd(), rxMsgs_.data(), cap, MSG_DONTWAIT, nullptr);
  if (r < 0) {
    if (errno != EAGAIN && errno != EINTR) rxErrors_++;
    return 0;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < static_cast<uint32_t>(r); i++) {
    msghdr& h = rxMsgs_[i].msg_hdr;
    if (h.msg_flags & MSG_TRUNC) {
      rxTruncated_++;
      continue;
    }
    uint32_t total = rxMsgs_[i].msg_len;
    uint32_t step = GroSize(&h);
    if (step == 0 || step > total) step = total;
    if (step < total) rxAggregates_++;
    uint32_t base = static_cast<uint32_t>(rx_.packet(i) - rx_.base);
    rxBytes_ += total;
    uint32_t at = 0;
    do {
      if (n == maxPackets_) {
        rxDropped_++;
      } else {
        rxOff_[n] = base + at;
        rx_.len[n] = std::min(step, total - at);
        WriteSource(n, rxFrom_[i]);
        rxPackets_++;
        n++;
      }
      at += step;
    } while (at < total);
  }
  return n;
}

}  // namespace ovnet
