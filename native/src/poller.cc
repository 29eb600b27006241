#include "poller.h"

#include <unistd.h>

#include "common.h"

namespace ovnet {

// ---- Poller (COLD PATH except OnPoll) ----

Poller* Poller::Create(napi_env env, int fd, PollListener* listener, int* err) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    *err = UV_EINVAL;
    return nullptr;
  }
  Poller* p = new Poller(fd, listener);
  *err = uv_poll_init(loop, &p->poll_, fd);
  if (*err != 0) {
    delete p;
    return nullptr;
  }
  p->poll_.data = p;
  // Without the hook a port left open in a worker would abort the worker's loop teardown.
  if (napi_add_async_cleanup_hook(env, OnEnvTeardown, p, &p->hook_) != napi_ok) p->hook_ = nullptr;
  return p;
}

int Poller::Start() {
  if (closing_) return UV_EBADF;
  return uv_poll_start(&poll_, UV_READABLE, OnPoll);
}

void Poller::Stop() {
  if (!closing_) uv_poll_stop(&poll_);
}

void Poller::Close() {
  if (closing_) return;
  closing_ = true;
  listener_ = nullptr;
  // Stopping removes the fd from epoll at once, so closing it right after is safe.
  uv_poll_stop(&poll_);
  ::close(fd_);
  fd_ = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
}

void Poller::OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  Poller* p = static_cast<Poller*>(handle->data);
  if (p->listener_ != nullptr) p->listener_->OnReadable(status);
}

void Poller::OnClosed(uv_handle_t* handle) {
  Poller* p = static_cast<Poller*>(handle->data);
  if (p->hook_ != nullptr) napi_remove_async_cleanup_hook(p->hook_);
  delete p;
}

void Poller::OnEnvTeardown(napi_async_cleanup_hook_handle /*hook*/, void* arg) {
  Poller* p = static_cast<Poller*>(arg);
  // The listener releases its JavaScript references and calls Close(); OnClosed then removes
  // this hook, which lets the environment finish tearing down.
  if (p->listener_ != nullptr) {
    p->listener_->OnTeardown();
  }
  p->Close();
}

// ---- BatchCallback ----

bool BatchCallback::Set(Napi::Env env, const Napi::Value& fn, const char* resourceName) {
  if (!fn.IsFunction()) {
    Napi::TypeError::New(env, "onBatch must be a function").ThrowAsJavaScriptException();
    return false;
  }
  Reset();
  fn_ = Napi::Persistent(fn.As<Napi::Function>());
  ctx_ = std::make_unique<Napi::AsyncContext>(env, resourceName);
  return true;
}

void BatchCallback::Reset() {
  if (calling_ && retiredCtx_ == nullptr) {
    retiredCtx_ = std::move(ctx_);
    retiredFn_ = std::move(fn_);
    return;
  }
  ctx_.reset();
  fn_.Reset();
}

// HOT PATH (once per batch)
void BatchCallback::Call(Napi::Env env, const Napi::Object& recv, uint32_t count) {
  if (ctx_ == nullptr) return;
  napi_value arg = Napi::Number::New(env, count);
  calling_ = true;
  fn_.MakeCallback(recv, {arg}, *ctx_);
  calling_ = false;
  retiredCtx_.reset();
  retiredFn_.Reset();
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

// ---- RxSlots (COLD PATH) ----

bool RxSlots::Bind(const Napi::CallbackInfo& info, size_t first) {
  Napi::Env env = info.Env();
  Bytes buf;
  uint32_t slotSize, headroom, capacity;
  if (!GetBytes(env, info[first], "buf", &buf)) return false;
  if (!GetUint(env, info[first + 1], "slotSize", 1u << 20, &slotSize)) return false;
  if (!GetUint(env, info[first + 2], "headroom", 1u << 16, &headroom)) return false;
  if (!GetUint(env, info[first + 3], "capacity", 1u << 16, &capacity)) return false;
  if (capacity == 0 || headroom >= slotSize ||
      static_cast<uint64_t>(capacity) * slotSize > buf.len) {
    Napi::RangeError::New(env, "buf must hold capacity slots of slotSize bytes, each with room after headroom")
        .ThrowAsJavaScriptException();
    return false;
  }
  uint32_t* lenArr;
  if (!GetU32(env, info[first + 4], "len", capacity, &lenArr)) return false;
  Release();
  base = buf.data;
  this->slotSize = slotSize;
  this->headroom = headroom;
  this->capacity = capacity;
  len = lenArr;
  Keep(info[first]);
  Keep(info[first + 4]);
  return true;
}

void RxSlots::Keep(const Napi::Value& v) {
  if (kept_ < 4) refs_[kept_++] = Napi::Persistent(v);
}

void RxSlots::Release() {
  for (int i = 0; i < kept_; i++) refs_[i].Reset();
  kept_ = 0;
  base = nullptr;
  len = nullptr;
  capacity = 0;
}

}  // namespace ovnet
