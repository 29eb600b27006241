// A TAP device: /dev/net/tun opened with IFF_TAP | IFF_NO_PI, non-blocking, read in batches
// on the event loop and written one frame per write(2) with one JavaScript crossing per batch.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "poller.h"

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
  void StopReading();
  void CloseAll();

  Poller* poller_ = nullptr;
  std::string name_;
  RxSlots rx_;
  BatchCallback onBatch_;
  bool reading_ = false;

  uint64_t rxPackets_ = 0, rxBytes_ = 0, rxErrors_ = 0, rxTruncated_ = 0;
  uint64_t txPackets_ = 0, txBytes_ = 0, txErrors_ = 0;
};

}  // namespace ovnet
