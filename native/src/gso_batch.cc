#include "gso_batch.h"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

namespace ovnet {

constexpr uint32_t kMaxMsgs = 256;
constexpr uint32_t kMaxIov = 4096;
constexpr uint32_t kArenaBytes = 256 * 1024;
// UDP_MAX_SEGMENTS on kernels before 6.9 (later ones allow 128).
constexpr uint32_t kMaxSegs = 64;
constexpr uint32_t kCtrl = CMSG_SPACE(sizeof(uint16_t));

// ---- COLD PATH ----

void GsoBatcher::Configure(uint32_t maxDatagram, uint32_t maxMessage) {
  maxDatagram_ = maxDatagram;
  maxMessage_ = maxMessage;
}

void GsoBatcher::Reserve() {
  if (!msgs_.empty()) return;
  msgs_.resize(kMaxMsgs);
  iov_.resize(kMaxIov);
  ctrl_.resize(kMaxMsgs * kCtrl);
  arena_.resize(kArenaBytes);
  msgFirst_.resize(kMaxMsgs);
  msgLast_.resize(kMaxMsgs);
  msgSegs_.resize(kMaxMsgs);
  msgBytes_.resize(kMaxMsgs);
}

// ---- HOT PATH ----

void GsoBatcher::Begin(int fd, uint8_t* failed, GsoStats* stats) {
  Reserve();
  fd_ = fd;
  failed_ = failed;
  stats_ = stats;
  nmsg_ = niov_ = arenaUsed_ = 0;
  open_ = false;
}

uint8_t* GsoBatcher::HeaderSpace(uint32_t n) {
  if (arenaUsed_ + n > arena_.size()) {
    // Everything queued points into the arena: send it before reusing the space.
    Flush();
    arenaUsed_ = 0;
  }
  uint8_t* p = arena_.data() + arenaUsed_;
  arenaUsed_ += n;
  return p;
}

void GsoBatcher::Add(const SockAddr* to, uint8_t* a, uint32_t alen, const uint8_t* b, uint32_t blen, uint32_t pos) {
  uint32_t len = alen + blen;
  bool join = open_ && !closed_ && to == to_ && len <= segSize_ && segs_ < kMaxSegs && bytes_ + len <= maxMessage_ &&
              niov_ + 2 <= kMaxIov;
  if (!join) {
    if (open_) CloseMessage();
    if (nmsg_ == kMaxMsgs || niov_ + 2 > kMaxIov) Flush();
    open_ = true;
    // A datagram larger than the MTU allows cannot be a GSO segment: it goes alone.
    closed_ = len > maxDatagram_ || !gsoOk_;
    to_ = to;
    segSize_ = len;
    segs_ = bytes_ = 0;
    iovStart_ = niov_;
    msgFirst_[nmsg_++] = pos;
  }
  iov_[niov_].iov_base = a;
  iov_[niov_++].iov_len = alen;
  if (blen > 0) {
    iov_[niov_].iov_base = const_cast<uint8_t*>(b);
    iov_[niov_++].iov_len = blen;
  }
  segs_++;
  bytes_ += len;
  msgLast_[nmsg_ - 1] = pos;
  if (len < segSize_) closed_ = true;
}

void GsoBatcher::CloseMessage() {
  uint32_t m = nmsg_ - 1;
  msghdr& h = msgs_[m].msg_hdr;
  h.msg_name = const_cast<sockaddr*>(&to_->u.sa);
  h.msg_namelen = to_->len;
  h.msg_iov = &iov_[iovStart_];
  h.msg_iovlen = niov_ - iovStart_;
  h.msg_flags = 0;
  h.msg_control = nullptr;
  h.msg_controllen = 0;
  if (segs_ > 1) {
    uint8_t* c = &ctrl_[m * kCtrl];
    std::memset(c, 0, kCtrl);
    h.msg_control = c;
    h.msg_controllen = kCtrl;
    cmsghdr* cm = CMSG_FIRSTHDR(&h);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t size = static_cast<uint16_t>(segSize_);
    std::memcpy(CMSG_DATA(cm), &size, sizeof size);
  }
  msgSegs_[m] = segs_;
  msgBytes_[m] = bytes_;
  open_ = false;
}

void GsoBatcher::Flush() {
  if (open_) CloseMessage();
  uint32_t done = 0;
  auto fail = [this](uint32_t m) {
    stats_->errors += msgSegs_[m];
    for (uint32_t p = msgFirst_[m]; p <= msgLast_[m]; p++) failed_[p] = 1;
  };
  while (done < nmsg_) {
    int r = sendmmsg(fd_, &msgs_[done], nmsg_ - done, MSG_DONTWAIT);
    if (r > 0) {
      for (uint32_t j = done; j < done + static_cast<uint32_t>(r); j++) {
        stats_->packets += msgSegs_[j];
        stats_->bytes += msgBytes_[j];
        stats_->messages++;
        if (msgSegs_[j] > 1) stats_->gsoMessages++;
      }
      done += static_cast<uint32_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      // The send buffer is full: the rest would fail the same way.
      while (done < nmsg_) fail(done++);
      break;
    }
    // EINVAL/EIO for a GSO message: this path cannot segment (xfrm, a smaller path MTU...).
    if (msgSegs_[done] > 1 && (errno == EINVAL || errno == EIO)) gsoOk_ = false;
    fail(done++);
  }
  nmsg_ = 0;
  niov_ = 0;
}

}  // namespace ovnet
