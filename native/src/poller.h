// The event-loop side shared by the TAP and UDP handles: a uv_poll watcher on one descriptor
// (never the thread pool), the JavaScript batch callback, and the caller's receive slots.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>

namespace ovnet {

class PollListener {
 public:
  virtual ~PollListener() = default;
  // status < 0: libuv stopped the watcher after POLLERR; the listener decides whether to restart.
  virtual void OnReadable(int status) = 0;
  // The environment (main thread or worker) is going away: release everything now.
  virtual void OnTeardown() = 0;
};

// Owns a descriptor and its uv_poll_t. Closing is asynchronous in libuv, so the poller frees
// itself once the handle is closed; the owner only drops its pointer after Close(). An async
// cleanup hook holds the environment's teardown until the handle is closed, so a worker thread
// that ends with a port open still shuts down cleanly.
class Poller {
 public:
  // Takes ownership of `fd` on success; returns nullptr with a libuv error in *err otherwise.
  static Poller* Create(napi_env env, int fd, PollListener* listener, int* err);

  int fd() const { return fd_; }
  int Start();
  void Stop();
  // Stops watching, closes the descriptor, detaches the listener. The poller deletes itself.
  void Close();

 private:
  Poller(int fd, PollListener* listener) : fd_(fd), listener_(listener) {}
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnClosed(uv_handle_t* handle);
  static void OnEnvTeardown(napi_async_cleanup_hook_handle hook, void* arg);

  uv_poll_t poll_;
  int fd_;
  PollListener* listener_;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  bool closing_ = false;
};

// The JavaScript onBatch(count) function, called with an async context so that async hooks,
// domains and the microtask queue behave as for any Node event.
class BatchCallback {
 public:
  bool Set(Napi::Env env, const Napi::Value& fn, const char* resourceName);
  void Reset();
  // Calls onBatch(count) on `recv`; the caller holds a HandleScope. A throwing callback
  // becomes an uncaught exception, as for any event listener.
  void Call(Napi::Env env, const Napi::Object& recv, uint32_t count);

 private:
  Napi::FunctionReference fn_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
  // The callback may stop (and restart) reading while it runs: the function and context in use
  // are then retired and released only after it returns.
  bool calling_ = false;
  Napi::FunctionReference retiredFn_;
  std::unique_ptr<Napi::AsyncContext> retiredCtx_;
};

// The caller's PacketBatch (see src/dataplane/ports.ts): slot i starts at i * slotSize, the
// packet at i * slotSize + headroom. The arrays stay referenced while reading so they cannot
// be collected under the kernel's feet.
struct RxSlots {
  uint8_t* base = nullptr;
  uint32_t slotSize = 0;
  uint32_t headroom = 0;
  uint32_t capacity = 0;
  uint32_t* len = nullptr;
  uint32_t maxLen() const { return slotSize - headroom; }
  uint8_t* packet(uint32_t i) const { return base + static_cast<size_t>(i) * slotSize + headroom; }

  // Reads (buf, slotSize, headroom, capacity, len) from info[first..first+4].
  bool Bind(const Napi::CallbackInfo& info, size_t first);
  // Keeps an extra array (srcAddr, srcPort) referenced along with the batch.
  void Keep(const Napi::Value& v);
  void Release();

 private:
  Napi::Reference<Napi::Value> refs_[4];
  int kept_ = 0;
};

}  // namespace ovnet
