// The TAP with IFF_VNET_HDR. Reads: each frame's virtio_net_hdr goes to its own 12-byte slot
// of a separate array, so the frame still starts at the slot's headroom (where the VXLAN header
// is prepended in place). Writes: runs of TCP segments of one flow become one super-frame,
// written with one writev (a NEEDS_CSUM/GSO header, the merged headers, then each segment's
// payload where it lies); any other frame is written as it is behind a zero header.
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common.h"
#include "tap.h"

namespace ovnet {

// Linux GRO stops at 64 segments too; it also keeps writev far below IOV_MAX.
constexpr uint32_t kMaxRun = 64;

// COLD PATH: startRead's 7th argument, one kVnetHdrLen slot per frame slot.
bool TapHandle::BindVnet(const Napi::CallbackInfo& info) {
  rxVnet_ = nullptr;
  if (vnetSz_ == 0) return true;
  Napi::Env env = info.Env();
  Bytes vnet;
  if (!GetBytes(env, info[6], "vnet", &vnet)) return false;
  if (vnet.len < static_cast<size_t>(rx_.capacity) * kVnetHdrLen) {
    Napi::RangeError::New(env, "vnet must hold " + std::to_string(kVnetHdrLen) + " bytes per slot")
        .ThrowAsJavaScriptException();
    return false;
  }
  rx_.Keep(info[6]);
  rxVnet_ = vnet.data;
  return true;
}

// HOT PATH
uint32_t TapHandle::ReadBatchVnet() {
  int fd = poller_->fd();
  uint32_t maxLen = rx_.maxLen();
  uint8_t spill;  // see ReadBatch
  iovec iov[3];
  iov[0].iov_len = vnetSz_;
  iov[1].iov_len = maxLen;
  iov[2].iov_base = &spill;
  iov[2].iov_len = 1;
  uint32_t n = 0;
  while (n < rx_.capacity) {
    uint8_t* hdr = rxVnet_ + static_cast<size_t>(n) * kVnetHdrLen;
    iov[0].iov_base = hdr;
    iov[1].iov_base = rx_.packet(n);
    ssize_t r = ::readv(fd, iov, 3);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) rxErrors_++;
      break;
    }
    if (static_cast<size_t>(r) < vnetSz_) {
      rxErrors_++;
      continue;
    }
    uint32_t flen = static_cast<uint32_t>(r) - vnetSz_;
    if (flen > maxLen) {
      rxTruncated_++;
      continue;
    }
    if (vnetSz_ < kVnetHdrLen) std::memset(hdr + vnetSz_, 0, kVnetHdrLen - vnetSz_);
    if (hdr[1] != kGsoNone) rxGso_++;
    rx_.len[n++] = flen;
    rxPackets_++;
    rxBytes_ += flen;
  }
  return n;
}

// HOT PATH: frames i = buf[off[i], off[i] + len[i]) in order; returns how many were written.
uint32_t TapHandle::WriteVnet(const uint8_t* buf, uint64_t bufLen, uint32_t count, const uint32_t* off,
                              const uint32_t* len) {
  if (txFrames_.size() < count) txFrames_.resize(count);
  if (txIov_.size() < kMaxRun + 2) txIov_.resize(kMaxRun + 2);
  for (uint32_t i = 0; i < count; i++) {
    bool ok = static_cast<uint64_t>(off[i]) + len[i] <= bufLen;
    txFrames_[i].p = ok ? buf + off[i] : nullptr;
    txFrames_[i].len = ok ? len[i] : 0;
  }
  uint32_t written = 0, i = 0;
  while (i < count) {
    if (txFrames_[i].p == nullptr) {
      txErrors_++;
      i++;
      continue;
    }
    Run run;
    uint32_t n = FindRun(&txFrames_[i], std::min(count - i, kMaxRun), &run);
    if (WriteRun(&txFrames_[i], run)) {
      written += n;
    } else {
      txErrors_ += n;
    }
    i += n;
  }
  return written;
}

// HOT PATH
bool TapHandle::WriteRun(const FrameRef* frames, const Run& run) {
  static const uint8_t kZeroHdr[kVnetHdrLen] = {};
  uint32_t niov;
  if (run.count == 1) {
    txIov_[0].iov_base = const_cast<uint8_t*>(kZeroHdr);
    txIov_[0].iov_len = vnetSz_;
    txIov_[1].iov_base = const_cast<uint8_t*>(frames[0].p);
    txIov_[1].iov_len = frames[0].len;
    niov = 2;
  } else {
    uint32_t hdrLen = run.head.hdrLen;
    WriteRunHeaders(frames[0], run, txHdr_);
    txIov_[0].iov_base = txHdr_;
    txIov_[0].iov_len = vnetSz_;
    txIov_[1].iov_base = txHdr_ + kVnetHdrLen;
    txIov_[1].iov_len = hdrLen;
    for (uint32_t k = 0; k < run.count; k++) {
      txIov_[2 + k].iov_base = const_cast<uint8_t*>(frames[k].p + hdrLen);
      txIov_[2 + k].iov_len = frames[k].len - hdrLen;
    }
    niov = 2 + run.count;
  }
  ssize_t r;
  do {
    r = ::writev(poller_->fd(), txIov_.data(), static_cast<int>(niov));
  } while (r < 0 && errno == EINTR);
  if (r < 0) return false;
  txPackets_++;
  txBytes_ += static_cast<uint64_t>(r) - vnetSz_;
  if (run.count > 1) {
    txSuper_++;
    txCoalesced_ += run.count;
  }
  return true;
}

}  // namespace ovnet
