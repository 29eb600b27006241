// The VXLAN underlay: one listening UDP socket read in batches with recvmmsg on the event
// loop, a pool of send-only sockets that give each inner flow its own outer source port, and
// a peer table so that a batch names destinations by index (sendmmsg, one crossing per batch).
// With offloads (udp_gso.cc) sends use UDP GSO and TCP segmentation of TAP super-frames, and
// receives use UDP_GRO, split back into datagrams for the caller.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "gso_batch.h"
#include "poller.h"
#include "udp_socket.h"

namespace ovnet {

class UdpHandle : public Napi::ObjectWrap<UdpHandle>, public PollListener {
 public:
  static Napi::Function Define(Napi::Env env);
  // JavaScript: new UdpHandle({address, port, rcvbuf, sndbuf, srcPorts, gro, maxDatagram, reusePort});
  // reached through udpOpen().
  explicit UdpHandle(const Napi::CallbackInfo& info);
  ~UdpHandle() override;

  void OnReadable(int status) override;
  void OnTeardown() override;

 private:
  // udp.cc (COLD PATH except OnReadable/RecvBatch)
  bool Open(Napi::Env env, const Napi::Object& opts);
  Napi::Value GetLocalPort(const Napi::CallbackInfo& info);
  Napi::Value SourcePorts(const Napi::CallbackInfo& info);
  Napi::Value SetPeer(const Napi::CallbackInfo& info);
  Napi::Value ClearPeer(const Napi::CallbackInfo& info);
  Napi::Value StartRecv(const Napi::CallbackInfo& info);
  Napi::Value StopRecv(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void StopReading();
  void CloseAll();
  uint32_t RecvBatch();
  void WriteSource(uint32_t slot, const SockAddr& from);

  // udp_send.cc (HOT PATH)
  Napi::Value Send(const Napi::CallbackInfo& info);
  uint32_t SendBucket(int fd, mmsghdr* msgs, uint32_t n);
  void ReserveTx(uint32_t count);
  uint32_t Bucketize(uint64_t bufLen, uint32_t count, const uint32_t* off, const uint32_t* len, const int32_t* peer,
                     const uint16_t* flow);

  // udp_gso.cc (HOT PATH except SetMaxDatagram)
  Napi::Value SendOffload(const Napi::CallbackInfo& info);
  Napi::Value SetMaxDatagram(const Napi::CallbackInfo& info);
  void EncapEntry(uint8_t* d, uint32_t len, uint8_t* vnet, const SockAddr* to, uint32_t pos);
  uint32_t RecvBatchGro();
  void EnableGro(int fd);
  bool BindDescriptors(const Napi::CallbackInfo& info);

  Poller* poller_ = nullptr;
  int family_ = 0;
  uint16_t localPort_ = 0;
  int rcvbuf_ = 0, sndbuf_ = 0;
  std::vector<int> poolFds_;
  std::vector<uint16_t> poolPorts_;
  std::vector<SockAddr> peers_;

  RxSlots rx_;
  uint32_t* srcAddr_ = nullptr;
  uint16_t* srcPort_ = nullptr;
  BatchCallback onBatch_;
  bool reading_ = false;
  std::vector<mmsghdr> rxMsgs_;
  std::vector<iovec> rxIov_;
  std::vector<SockAddr> rxFrom_;

  // Send scratch, grown (never shrunk) to the largest batch seen.
  std::vector<mmsghdr> txMsgs_;
  std::vector<iovec> txIov_;
  std::vector<int32_t> txSock_;
  std::vector<uint32_t> bucketStart_, bucketFill_;
  // Offload send: list entries in socket order, and which of those positions failed.
  std::vector<uint32_t> txOrder_;
  std::vector<uint8_t> txFailed_;
  GsoBatcher gso_;
  GsoStats gsoStats_;
  uint64_t txSegmented_ = 0, txBadGso_ = 0;

  // Offload receive: datagram i of a batch is at rxOff_[i] (UDP_GRO packs several per slot).
  bool groEnabled_ = false;
  uint32_t* rxOff_ = nullptr;
  uint32_t maxPackets_ = 0;
  std::vector<uint8_t> rxCtrl_;
  uint64_t rxAggregates_ = 0, rxDropped_ = 0;
  uint32_t maxDatagram_ = 0;

  uint64_t rxPackets_ = 0, rxBytes_ = 0, rxErrors_ = 0, rxTruncated_ = 0;
  uint64_t txPackets_ = 0, txBytes_ = 0, txErrors_ = 0;
};

}  // namespace ovnet
