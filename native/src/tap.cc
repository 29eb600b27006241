#include "tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common.h"

namespace ovnet {

Napi::Function TapHandle::Define(Napi::Env env) {
  return DefineClass(env, "TapHandle",
                     {
                         InstanceAccessor<&TapHandle::GetName>("name"),
                         InstanceMethod<&TapHandle::StartRead>("startRead"),
                         InstanceMethod<&TapHandle::StopRead>("stopRead"),
                         InstanceMethod<&TapHandle::Write>("write"),
                         InstanceMethod<&TapHandle::Stats>("stats"),
                         InstanceMethod<&TapHandle::SetOffload>("setOffload"),
                         InstanceMethod<&TapHandle::SetVnetHdrSize>("setVnetHdrSize"),
                         InstanceMethod<&TapHandle::Close>("close"),
                     });
}

// ---- COLD PATH: open, options, close ----

TapHandle::TapHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TapHandle>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    Napi::TypeError::New(env, "tapOpen: name must be a string").ThrowAsJavaScriptException();
    return;
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  Open(env, name, OptBool(opts, "vnetHdr", false), OptBool(opts, "multiQueue", false));
}

TapHandle::~TapHandle() {
  // Reached when the object is collected (never while reading: reading holds a reference)
  // or when the constructor failed.
  reading_ = false;
  CloseAll();
}

bool TapHandle::Open(Napi::Env env, const std::string& name, bool vnetHdr, bool multiQueue) {
  std::string what = "tapOpen(" + name + ")";
  // An empty name would let the kernel pick "tap%d"; the daemon always names its devices.
  if (name.empty() || name.size() >= IFNAMSIZ || name.find('\0') != std::string::npos) {
    ThrowInvalid(env, what + ": device name must be 1.." + std::to_string(IFNAMSIZ - 1) + " characters");
    return false;
  }
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    ThrowErrno(env, what, "open(/dev/net/tun)", errno);
    return false;
  }
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (vnetHdr) ifr.ifr_flags |= IFF_VNET_HDR;
  if (multiQueue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  // Not made persistent: the device goes away when the last descriptor closes.
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    ::close(fd);
    ThrowErrno(env, what, "ioctl(TUNSETIFF)", err);
    return false;
  }
  name_.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  if (vnetHdr) {
    vnetSz_ = 10;
    // The header's fields are little-endian (virtio 1.0) whatever the host; ignored where unsupported.
    int le = 1;
    ioctl(fd, TUNSETVNETLE, &le);
  }
  int err = 0;
  poller_ = Poller::Create(env, fd, this, &err);
  if (poller_ == nullptr) {
    ::close(fd);
    ThrowErrno(env, what, "uv_poll_init", -err);
    return false;
  }
  return true;
}

Napi::Value TapHandle::GetName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), name_);
}

Napi::Value TapHandle::SetOffload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t flags;
  if (!GetUint(env, info[0], "flags", 0xffffffffu, &flags)) return env.Undefined();
  if (poller_ == nullptr) {
    ThrowErrno(env, "setOffload(" + name_ + ")", "ioctl(TUNSETOFFLOAD)", EBADF);
  } else if (ioctl(poller_->fd(), TUNSETOFFLOAD, static_cast<unsigned long>(flags)) < 0) {
    ThrowErrno(env, "setOffload(" + name_ + ")", "ioctl(TUNSETOFFLOAD)", errno);
  }
  return env.Undefined();
}

Napi::Value TapHandle::SetVnetHdrSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t size;
  if (!GetUint(env, info[0], "size", 0x7fffffffu, &size)) return env.Undefined();
  int sz = static_cast<int>(size);
  if (poller_ == nullptr) {
    ThrowErrno(env, "setVnetHdrSize(" + name_ + ")", "ioctl(TUNSETVNETHDRSZ)", EBADF);
  } else if (vnetSz_ == 0 || sz > static_cast<int>(kVnetHdrLen)) {
    ThrowInvalid(env, "setVnetHdrSize(" + name_ + "): needs vnetHdr, and at most " + std::to_string(kVnetHdrLen) + " bytes");
  } else if (reading_) {
    ThrowInvalid(env, "setVnetHdrSize(" + name_ + "): not while reading");
  } else if (ioctl(poller_->fd(), TUNSETVNETHDRSZ, &sz) < 0) {
    ThrowErrno(env, "setVnetHdrSize(" + name_ + ")", "ioctl(TUNSETVNETHDRSZ)", errno);
  } else {
    vnetSz_ = size;
  }
  return env.Undefined();
}

Napi::Value TapHandle::StartRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (poller_ == nullptr) {
    ThrowErrno(env, "startRead(" + name_ + ")", "uv_poll_start", EBADF);
    return env.Undefined();
  }
  if (reading_) {
    ThrowInvalid(env, "startRead(" + name_ + "): already reading");
    return env.Undefined();
  }
  if (!rx_.Bind(info, 0) || !BindVnet(info) || !onBatch_.Set(env, info[5], "ovnet:tap-read")) {
    rx_.Release();
    return env.Undefined();
  }
  int err = poller_->Start();
  if (err != 0) {
    StopReading();
    ThrowErrno(env, "startRead(" + name_ + ")", "uv_poll_start", -err);
    return env.Undefined();
  }
  reading_ = true;
  Ref();  // a device being read stays alive even if JavaScript drops the handle
  return env.Undefined();
}

void TapHandle::StopReading() {
  if (poller_ != nullptr) poller_->Stop();
  onBatch_.Reset();
  rx_.Release();
  rxVnet_ = nullptr;
  if (reading_) {
    reading_ = false;
    Unref();
  }
}

Napi::Value TapHandle::StopRead(const Napi::CallbackInfo& info) {
  StopReading();
  return info.Env().Undefined();
}

void TapHandle::CloseAll() {
  StopReading();
  if (poller_ != nullptr) {
    poller_->Close();
    poller_ = nullptr;
  }
}

Napi::Value TapHandle::Close(const Napi::CallbackInfo& info) {
  CloseAll();
  return info.Env().Undefined();
}

void TapHandle::OnTeardown() {
  CloseAll();
}

Napi::Value TapHandle::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("rxPackets", static_cast<double>(rxPackets_));
  o.Set("rxBytes", static_cast<double>(rxBytes_));
  o.Set("rxErrors", static_cast<double>(rxErrors_));
  o.Set("rxTruncated", static_cast<double>(rxTruncated_));
  o.Set("txPackets", static_cast<double>(txPackets_));
  o.Set("txBytes", static_cast<double>(txBytes_));
  o.Set("txErrors", static_cast<double>(txErrors_));
  o.Set("vnetHdrSize", vnetSz_);
  o.Set("rxSuperFrames", static_cast<double>(rxGso_));
  o.Set("txSuperFrames", static_cast<double>(txSuper_));
  o.Set("txCoalesced", static_cast<double>(txCoalesced_));
  return o;
}

// ---- HOT PATH: read and write batches ----

void TapHandle::OnReadable(int status) {
  if (status < 0) {
    // POLLERR: the device was deleted under us (read would fail with EBADFD forever).
    // libuv has already stopped the watcher; stay stopped and let the counters show it.
    rxErrors_++;
    StopReading();
    return;
  }
  uint32_t count = vnetSz_ != 0 ? ReadBatchVnet() : ReadBatch();
  if (count == 0) return;
  Napi::HandleScope scope(Env());
  onBatch_.Call(Env(), Value(), count);
}

// HOT PATH
uint32_t TapHandle::ReadBatch() {
  int fd = poller_->fd();
  uint32_t maxLen = rx_.maxLen();
  // tun clamps the returned length to the space offered, so a frame that does not fit shows
  // only by spilling into one spare byte after the slot.
  uint8_t spill;
  iovec iov[2];
  iov[0].iov_len = maxLen;
  iov[1].iov_base = &spill;
  iov[1].iov_len = 1;
  uint32_t n = 0;
  while (n < rx_.capacity) {
    iov[0].iov_base = rx_.packet(n);
    ssize_t r = ::readv(fd, iov, 2);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) rxErrors_++;
      break;
    }
    if (static_cast<size_t>(r) > maxLen) {
      rxTruncated_++;
      continue;
    }
    rx_.len[n++] = static_cast<uint32_t>(r);
    rxPackets_++;
    rxBytes_ += static_cast<uint64_t>(r);
  }
  return n;
}

// HOT PATH: write(buf, count, off, len) -> frames written
Napi::Value TapHandle::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes buf;
  uint32_t count;
  uint32_t *off, *len;
  if (!GetBytes(env, info[0], "buf", &buf) || !GetUint(env, info[1], "count", 1u << 24, &count) ||
      !GetU32(env, info[2], "off", count, &off) || !GetU32(env, info[3], "len", count, &len)) {
    return env.Undefined();
  }
  if (poller_ == nullptr) return Napi::Number::New(env, 0);
  if (vnetSz_ != 0) return Napi::Number::New(env, WriteVnet(buf.data, buf.len, count, off, len));
  int fd = poller_->fd();
  uint32_t written = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (static_cast<uint64_t>(off[i]) + len[i] > buf.len) {
      txErrors_++;
      continue;
    }
    ssize_t r;
    do {
      r = ::write(fd, buf.data + off[i], len[i]);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      txErrors_++;
      continue;
    }
    written++;
    txPackets_++;
    txBytes_ += static_cast<uint64_t>(r);
  }
  return Napi::Number::New(env, written);
}

}  // namespace ovnet
