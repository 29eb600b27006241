// A TAP device: /dev/net/tun opened with IFF_TAP | IFF_NO_PI, non-blocking, read in batches
// on the event loop and written one frame per write(2) with one JavaScript crossing per batch.
// With IFF_VNET_HDR (tap_vnet.cc) every frame carries a virtio_net_hdr: reads deliver it in a
// separate array, writes coalesce TCP segments into super-frames.
#pragma once

#include <napi.h>

#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

#include "poller.h"
#include "tcp_offload.h"

namespace ovnet {

class TapHandle : public Napi::ObjectWrap<TapHandle>, public PollListener {
 public:
  static Napi::Function Define(Napi::Env env);
  // JavaScript: new TapHandle(name, {vnetHdr, multiQueue}); reached through tapOpen().
  explicit TapHandle(const Napi::CallbackInfo& info);
  ~TapHandle() override;

  void OnReadable(int status) override;
  void OnTeardown() override;

 private:
  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value StartRead(const Napi::CallbackInfo& info);
  Napi::Value StopRead(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value SetOffload(const Napi::CallbackInfo& info);
  Napi::Value SetVnetHdrSize(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  bool Open(Napi::Env env, const std::string& name, bool vnetHdr, bool multiQueue);
  uint32_t ReadBatch();

  // tap_vnet.cc
  bool BindVnet(const Napi::CallbackInfo& info);
  uint32_t ReadBatchVnet();
  uint32_t WriteVnet(const uint8_t* buf, uint64_t bufLen, uint32_t count, const uint32_t* off, const uint32_t* len);
  bool WriteRun(const FrameRef* frames, const Run& run);
  void StopReading();
  void CloseAll();

  Poller* poller_ = nullptr;
  std::string name_;
  RxSlots rx_;
  BatchCallback onBatch_;
  bool reading_ = false;

  // virtio_net_hdr size in use (0: opened without IFF_VNET_HDR; the kernel's default is 10).
  uint32_t vnetSz_ = 0;
  uint8_t* rxVnet_ = nullptr;
  std::vector<FrameRef> txFrames_;
  std::vector<iovec> txIov_;
  uint8_t txHdr_[kVnetHdrLen + kMaxHeaders];
  uint64_t rxGso_ = 0, txSuper_ = 0, txCoalesced_ = 0;

  uint64_t rxPackets_ = 0, rxBytes_ = 0, rxErrors_ = 0, rxTruncated_ = 0;
  uint64_t txPackets_ = 0, txBytes_ = 0, txErrors_ = 0;
};

}  // namespace ovnet
