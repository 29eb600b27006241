#include "udp.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common.h"

namespace ovnet {

constexpr uint32_t kDefaultBuffer = 4u << 20;
constexpr uint32_t kDefaultSourcePorts = 8;
constexpr uint32_t kMaxSourcePorts = 256;
constexpr uint32_t kMaxPeers = 65536;

Napi::Function UdpHandle::Define(Napi::Env env) {
  return DefineClass(env, "UdpHandle",
                     {
                         InstanceAccessor<&UdpHandle::GetLocalPort>("localPort"),
                         InstanceMethod<&UdpHandle::SourcePorts>("sourcePorts"),
                         InstanceMethod<&UdpHandle::SetPeer>("setPeer"),
                         InstanceMethod<&UdpHandle::ClearPeer>("clearPeer"),
                         InstanceMethod<&UdpHandle::Send>("send"),
                         InstanceMethod<&UdpHandle::SendOffload>("sendOffload"),
                         InstanceMethod<&UdpHandle::SetMaxDatagram>("setMaxDatagram"),
                         InstanceMethod<&UdpHandle::StartRecv>("startRecv"),
                         InstanceMethod<&UdpHandle::StopRecv>("stopRecv"),
                         InstanceMethod<&UdpHandle::Stats>("stats"),
                         InstanceMethod<&UdpHandle::Close>("close"),
                     });
}

// ---- COLD PATH: open, peers, close ----

UdpHandle::UdpHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpHandle>(info) {
  if (!info[0].IsObject()) {
    Napi::TypeError::New(info.Env(), "udpOpen: options must be an object").ThrowAsJavaScriptException();
    return;
  }
  Open(info.Env(), info[0].As<Napi::Object>());
}

UdpHandle::~UdpHandle() {
  reading_ = false;  // see TapHandle::~TapHandle
  CloseAll();
}

bool UdpHandle::Open(Napi::Env env, const Napi::Object& opts) {
  Napi::Value addrValue = opts.Get("address");
  if (!addrValue.IsString()) {
    Napi::TypeError::New(env, "udpOpen: address must be a string").ThrowAsJavaScriptException();
    return false;
  }
  std::string address = addrValue.As<Napi::String>().Utf8Value();
  uint32_t port, rcvbuf, sndbuf, srcPorts;
  if (!GetUint(env, opts.Get("port"), "port", 65535, &port) ||
      !OptUint(env, opts, "rcvbuf", 1u << 30, kDefaultBuffer, &rcvbuf) ||
      !OptUint(env, opts, "sndbuf", 1u << 30, kDefaultBuffer, &sndbuf) ||
      !OptUint(env, opts, "srcPorts", kMaxSourcePorts, kDefaultSourcePorts, &srcPorts)) {
    return false;
  }
  std::string what = "udpOpen(" + address + " port " + std::to_string(port) + ")";
  SockAddr local;
  if (!MakeSockAddr(address, port, &local)) {
    ThrowInvalid(env, what + ": address must be a numeric IPv4 or IPv6 address");
    return false;
  }
  SocketSpec spec;
  spec.rcvbuf = static_cast<int>(rcvbuf);
  spec.sndbuf = static_cast<int>(sndbuf);
  spec.reusePort = OptBool(opts, "reusePort", false);
  const char* failed = "";
  int fd = OpenUdpSocket(local, spec, &failed);
  if (fd < 0) {
    ThrowErrno(env, what, failed, errno);
    return false;
  }
  if (!OpenSourcePool(local, srcPorts, spec.sndbuf, &poolFds_, &poolPorts_, &failed)) {
    int err = errno;
    ::close(fd);
    ThrowErrno(env, what + " source-port pool", failed, err);
    return false;
  }
  family_ = local.family();
  if (OptBool(opts, "gro", false)) EnableGro(fd);
  // Until told the MTU: the most a 1500-byte underlay carries.
  uint32_t maxDatagram;
  if (!OptUint(env, opts, "maxDatagram", 65507, family_ == AF_INET6 ? 1452 : 1472, &maxDatagram)) {
    ::close(fd);
    CloseAll();
    return false;
  }
  maxDatagram_ = maxDatagram;
  gso_.Configure(maxDatagram_, family_ == AF_INET6 ? 65527 : 65507);
  localPort_ = BoundPort(fd);
  rcvbuf_ = EffectiveBuffer(fd, SO_RCVBUF);
  sndbuf_ = EffectiveBuffer(fd, SO_SNDBUF);
  bucketStart_.assign(poolFds_.size() + 1, 0);
  bucketFill_.assign(poolFds_.size() + 1, 0);
  int err = 0;
  poller_ = Poller::Create(env, fd, this, &err);
  if (poller_ == nullptr) {
    ::close(fd);
    CloseAll();
    ThrowErrno(env, what, "uv_poll_init", -err);
    return false;
  }
  return true;
}

Napi::Value UdpHandle::GetLocalPort(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), localPort_);
}

Napi::Value UdpHandle::SourcePorts(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env(), poolPorts_.size());
  for (uint32_t i = 0; i < poolPorts_.size(); i++) a.Set(i, Napi::Number::New(info.Env(), poolPorts_[i]));
  return a;
}

Napi::Value UdpHandle::SetPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t index, port;
  if (!GetUint(env, info[0], "index", kMaxPeers - 1, &index)) return env.Undefined();
  if (!info[1].IsString()) {
    Napi::TypeError::New(env, "setPeer: address must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!GetUint(env, info[2], "port", 65535, &port)) return env.Undefined();
  std::string address = info[1].As<Napi::String>().Utf8Value();
  SockAddr peer;
  if (!MakeSockAddr(address, port, &peer)) {
    ThrowInvalid(env, "setPeer(" + std::to_string(index) + ", " + address + "): not a numeric IP address");
    return env.Undefined();
  }
  if (peer.family() != family_) {
    ThrowInvalid(env, "setPeer(" + std::to_string(index) + ", " + address + "): the underlay socket is " +
                          (family_ == AF_INET6 ? "IPv6" : "IPv4") + " and cannot reach this address");
    return env.Undefined();
  }
  if (index >= peers_.size()) peers_.resize(index + 1);
  peers_[index] = peer;
  return env.Undefined();
}

Napi::Value UdpHandle::ClearPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t index;
  if (!GetUint(env, info[0], "index", kMaxPeers - 1, &index)) return env.Undefined();
  if (index < peers_.size()) peers_[index].len = 0;
  return env.Undefined();
}

Napi::Value UdpHandle::StartRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (poller_ == nullptr) {
    ThrowErrno(env, "startRecv", "uv_poll_start", EBADF);
    return env.Undefined();
  }
  if (reading_) {
    ThrowInvalid(env, "startRecv: already receiving");
    return env.Undefined();
  }
  if (!rx_.Bind(info, 0) || !GetU32(env, info[5], "srcAddr", 4 * rx_.capacity, &srcAddr_) ||
      !GetU16(env, info[6], "srcPort", rx_.capacity, &srcPort_) ||
      !onBatch_.Set(env, info[7], "ovnet:udp-recv")) {
    StopReading();
    return env.Undefined();
  }
  rx_.Keep(info[5]);
  rx_.Keep(info[6]);
  uint32_t cap = rx_.capacity;
  rxMsgs_.assign(cap, mmsghdr{});
  rxIov_.assign(cap, iovec{});
  rxFrom_.assign(cap, SockAddr{});
  for (uint32_t i = 0; i < cap; i++) {
    rxIov_[i].iov_base = rx_.packet(i);
    rxIov_[i].iov_len = rx_.maxLen();
    rxMsgs_[i].msg_hdr.msg_name = &rxFrom_[i].u;
    rxMsgs_[i].msg_hdr.msg_iov = &rxIov_[i];
    rxMsgs_[i].msg_hdr.msg_iovlen = 1;
  }
  if (!BindDescriptors(info)) {
    StopReading();
    return env.Undefined();
  }
  int err = poller_->Start();
  if (err != 0) {
    StopReading();
    ThrowErrno(env, "startRecv", "uv_poll_start", -err);
    return env.Undefined();
  }
  reading_ = true;
  Ref();  // see TapHandle::StartRead
  return env.Undefined();
}

void UdpHandle::StopReading() {
  if (poller_ != nullptr) poller_->Stop();
  onBatch_.Reset();
  rx_.Release();
  srcAddr_ = nullptr;
  srcPort_ = nullptr;
  rxOff_ = nullptr;
  if (reading_) {
    reading_ = false;
    Unref();
  }
}

Napi::Value UdpHandle::StopRecv(const Napi::CallbackInfo& info) {
  StopReading();
  return info.Env().Undefined();
}

void UdpHandle::CloseAll() {
  StopReading();
  if (poller_ != nullptr) {
    poller_->Close();
    poller_ = nullptr;
  }
  for (int fd : poolFds_) ::close(fd);
  poolFds_.clear();
}

Napi::Value UdpHandle::Close(const Napi::CallbackInfo& info) {
  CloseAll();
  return info.Env().Undefined();
}

void UdpHandle::OnTeardown() {
  CloseAll();
}

Napi::Value UdpHandle::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("rxPackets", static_cast<double>(rxPackets_));
  o.Set("rxBytes", static_cast<double>(rxBytes_));
  o.Set("rxErrors", static_cast<double>(rxErrors_));
  o.Set("rxTruncated", static_cast<double>(rxTruncated_));
  o.Set("rcvbuf", rcvbuf_);
  o.Set("sndbuf", sndbuf_);
  // Offload sends (sendOffload) are counted here too, per datagram on the wire.
  o.Set("txPackets", static_cast<double>(txPackets_ + gsoStats_.packets));
  o.Set("txBytes", static_cast<double>(txBytes_ + gsoStats_.bytes));
  o.Set("txErrors", static_cast<double>(txErrors_ + gsoStats_.errors + txBadGso_));
  o.Set("gro", groEnabled_);
  o.Set("gso", gso_.gsoWorks());
  o.Set("maxDatagram", maxDatagram_);
  o.Set("txMessages", static_cast<double>(gsoStats_.messages));
  o.Set("txGsoMessages", static_cast<double>(gsoStats_.gsoMessages));
  o.Set("txSegmented", static_cast<double>(txSegmented_));
  o.Set("txBadOffload", static_cast<double>(txBadGso_));
  o.Set("rxAggregates", static_cast<double>(rxAggregates_));
  o.Set("rxDropped", static_cast<double>(rxDropped_));
  return o;
}

// ---- HOT PATH: receive ----

void UdpHandle::OnReadable(int status) {
  if (status < 0) {
    // A pending socket error (POLLERR) stops libuv's watcher: read it to clear it and go on.
    int soErr = 0;
    socklen_t len = sizeof soErr;
    getsockopt(poller_->fd(), SOL_SOCKET, SO_ERROR, &soErr, &len);
    rxErrors_++;
    if (poller_->Start() != 0) StopReading();
    return;
  }
  uint32_t count = rxOff_ != nullptr ? RecvBatchGro() : RecvBatch();
  if (count == 0) return;
  Napi::HandleScope scope(Env());
  onBatch_.Call(Env(), Value(), count);
}

// HOT PATH
uint32_t UdpHandle::RecvBatch() {
  uint32_t cap = rx_.capacity;
  for (uint32_t i = 0; i < cap; i++) rxMsgs_[i].msg_hdr.msg_namelen = sizeof rxFrom_[i].u;
  int r = recvmmsg(poller_->fd(), rxMsgs_.data(), cap, MSG_DONTWAIT, nullptr);
  if (r < 0) {
    if (errno != EAGAIN && errno != EINTR) rxErrors_++;
    return 0;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < static_cast<uint32_t>(r); i++) {
    const mmsghdr& m = rxMsgs_[i];
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      rxTruncated_++;
      continue;
    }
    // Only after a truncated datagram: close the gap so slots 0..n-1 stay dense.
    if (n != i) std::memmove(rx_.packet(n), rx_.packet(i), m.msg_len);
    rx_.len[n] = m.msg_len;
    WriteSource(n, rxFrom_[i]);
    rxPackets_++;
    rxBytes_ += m.msg_len;
    n++;
  }
  return n;
}

// HOT PATH: the source as four numeric 32-bit words of an IPv6 address (IPv4 mapped).
void UdpHandle::WriteSource(uint32_t slot, const SockAddr& from) {
  uint32_t* w = srcAddr_ + 4 * slot;
  if (from.family() == AF_INET6) {
    const uint8_t* b = from.u.in6.sin6_addr.s6_addr;
    for (int k = 0; k < 4; k++) {
      w[k] = (static_cast<uint32_t>(b[4 * k]) << 24) | (static_cast<uint32_t>(b[4 * k + 1]) << 16) |
             (static_cast<uint32_t>(b[4 * k + 2]) << 8) | b[4 * k + 3];
    }
    srcPort_[slot] = ntohs(from.u.in6.sin6_port);
  } else {
    w[0] = 0;
    w[1] = 0;
    w[2] = 0xffff;
    w[3] = ntohl(from.u.in4.sin_addr.s_addr);
    srcPort_[slot] = ntohs(from.u.in4.sin_port);
  }
}

}  // namespace ovnet
