// Batched sending: the entries of one batch are grouped by the socket their flow maps to, then
// each group goes out with as few sendmmsg calls as the kernel allows. Nothing is thrown per
// datagram: a missing peer or a refused datagram is counted in txErrors.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "common.h"
#include "udp.h"

namespace ovnet {

// sendmmsg takes at most UIO_MAXIOV messages per call.
constexpr uint32_t kMaxPerCall = 1024;

void UdpHandle::ReserveTx(uint32_t count) {
  if (txMsgs_.size() >= count) return;
  txMsgs_.resize(count);
  txIov_.resize(count);
  txSock_.resize(count);
  txOrder_.resize(count);
  txFailed_.resize(count);
}

// HOT PATH. Groups valid entries by source socket (stable within a socket) into txOrder_;
// socket s owns positions bucketStart_[s]..bucketFill_[s]. Returns how many entries are valid.
uint32_t UdpHandle::Bucketize(uint64_t bufLen, uint32_t count, const uint32_t* off, const uint32_t* len,
                              const int32_t* peer, const uint16_t* flow) {
  uint32_t pool = static_cast<uint32_t>(poolFds_.size());
  uint32_t buckets = pool == 0 ? 1 : pool;
  std::fill(bucketFill_.begin(), bucketFill_.begin() + buckets, 0);
  for (uint32_t i = 0; i < count; i++) {
    uint32_t p = static_cast<uint32_t>(peer[i]);
    bool ok = peer[i] >= 0 && p < peers_.size() && peers_[p].len != 0 && static_cast<uint64_t>(off[i]) + len[i] <= bufLen;
    txSock_[i] = ok ? static_cast<int32_t>(pool == 0 ? 0 : flow[i] % pool) : -1;
    if (ok) bucketFill_[txSock_[i]]++;
    else txErrors_++;
  }
  uint32_t at = 0;
  for (uint32_t s = 0; s < buckets; s++) {
    bucketStart_[s] = at;
    at += bucketFill_[s];
    bucketFill_[s] = bucketStart_[s];
  }
  for (uint32_t i = 0; i < count; i++) {
    if (txSock_[i] >= 0) txOrder_[bucketFill_[txSock_[i]]++] = i;
  }
  return at;
}

// HOT PATH: send(buf, count, off, len, peer, flow) -> datagrams the kernel accepted
Napi::Value UdpHandle::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes buf;
  uint32_t count;
  uint32_t *off, *len;
  int32_t* peer;
  uint16_t* flow;
  if (!GetBytes(env, info[0], "buf", &buf) || !GetUint(env, info[1], "count", 1u << 24, &count) ||
      !GetU32(env, info[2], "off", count, &off) || !GetU32(env, info[3], "len", count, &len) ||
      !GetI32(env, info[4], "peer", count, &peer) || !GetU16(env, info[5], "flow", count, &flow)) {
    return env.Undefined();
  }
  if (poller_ == nullptr || count == 0) return Napi::Number::New(env, 0);
  ReserveTx(count);
  uint32_t valid = Bucketize(buf.len, count, off, len, peer, flow);
  for (uint32_t pos = 0; pos < valid; pos++) {
    uint32_t i = txOrder_[pos];
    SockAddr& to = peers_[static_cast<uint32_t>(peer[i])];
    txIov_[pos].iov_base = buf.data + off[i];
    txIov_[pos].iov_len = len[i];
    msghdr& h = txMsgs_[pos].msg_hdr;
    h.msg_name = &to.u;
    h.msg_namelen = to.len;
    h.msg_iov = &txIov_[pos];
    h.msg_iovlen = 1;
    h.msg_control = nullptr;
    h.msg_controllen = 0;
    h.msg_flags = 0;
  }

  uint32_t pool = static_cast<uint32_t>(poolFds_.size());
  uint32_t buckets = pool == 0 ? 1 : pool;
  uint32_t accepted = 0;
  for (uint32_t s = 0; s < buckets; s++) {
    uint32_t n = bucketFill_[s] - bucketStart_[s];
    if (n == 0) continue;
    int fd = pool == 0 ? poller_->fd() : poolFds_[s];
    accepted += SendBucket(fd, &txMsgs_[bucketStart_[s]], n);
  }
  return Napi::Number::New(env, accepted);
}

// HOT PATH
uint32_t UdpHandle::SendBucket(int fd, mmsghdr* msgs, uint32_t n) {
  uint32_t done = 0, accepted = 0;
  while (done < n) {
    int r = sendmmsg(fd, msgs + done, std::min(n - done, kMaxPerCall), MSG_DONTWAIT);
    if (r > 0) {
      for (uint32_t j = done; j < done + static_cast<uint32_t>(r); j++) txBytes_ += msgs[j].msg_len;
      done += static_cast<uint32_t>(r);
      accepted += static_cast<uint32_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      // The send buffer is full: the rest of this run would fail the same way.
      txErrors_ += n - done;
      break;
    }
    // This datagram was refused (ENOBUFS, EMSGSIZE, ENETUNREACH, ...): drop it, try the next.
    txErrors_++;
    done++;
  }
  txPackets_ += accepted;
  return accepted;
}

}  // namespace ovnet
