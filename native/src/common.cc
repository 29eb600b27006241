#include "common.h"

#include <cerrno>
#include <cmath>
#include <cstring>

namespace ovnet {

std::string ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
#endif
  return "errno " + std::to_string(err);
}

static Napi::Error MakeError(Napi::Env env, const std::string& message, const std::string& errnoName) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, "OVN_ERR_NATIVE"));
  e.Set("errno", Napi::String::New(env, errnoName));
  return e;
}

void ThrowErrno(Napi::Env env, const std::string& what, const char* syscall, int err) {
  std::string name = ErrnoName(err);
  std::string message = what + ": " + syscall + " failed: " + name + " (" + std::strerror(err) + ")";
  Napi::Error e = MakeError(env, message, name);
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

void ThrowInvalid(Napi::Env env, const std::string& message) {
  MakeError(env, message, "EINVAL").ThrowAsJavaScriptException();
}

static void ThrowType(Napi::Env env, const char* what, const char* expected) {
  Napi::TypeError::New(env, std::string(what) + " must be " + expected).ThrowAsJavaScriptException();
}

bool GetBytes(Napi::Env env, const Napi::Value& v, const char* what, Bytes* out) {
  if (!v.IsBuffer()) {
    ThrowType(env, what, "a Buffer");
    return false;
  }
  Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
  out->data = b.Data();
  out->len = b.Length();
  return true;
}

template <typename T>
static bool GetTyped(Napi::Env env, const Napi::Value& v, const char* what, napi_typedarray_type type,
                     const char* expected, size_t minLen, T** out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowType(env, what, expected);
    return false;
  }
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  if (a.ElementLength() < minLen) {
    Napi::RangeError::New(env, std::string(what) + " is shorter than the batch").ThrowAsJavaScriptException();
    return false;
  }
  *out = a.Data();
  return true;
}

bool GetU32(Napi::Env env, const Napi::Value& v, const char* what, size_t minLen, uint32_t** out) {
  return GetTyped(env, v, what, napi_uint32_array, "a Uint32Array", minLen, out);
}

bool GetI32(Napi::Env env, const Napi::Value& v, const char* what, size_t minLen, int32_t** out) {
  return GetTyped(env, v, what, napi_int32_array, "an Int32Array", minLen, out);
}

bool GetU16(Napi::Env env, const Napi::Value& v, const char* what, size_t minLen, uint16_t** out) {
  return GetTyped(env, v, what, napi_uint16_array, "a Uint16Array", minLen, out);
}

bool GetUint(Napi::Env env, const Napi::Value& v, const char* what, uint32_t max, uint32_t* out) {
  if (!v.IsNumber()) {
    ThrowType(env, what, "a number");
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > max || std::floor(d) != d) {
    Napi::RangeError::New(env, std::string(what) + " must be an integer in 0.." + std::to_string(max))
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

bool OptBool(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  return v.ToBoolean().Value();
}

bool OptUint(Napi::Env env, const Napi::Object& o, const char* key, uint32_t max, uint32_t fallback,
             uint32_t* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) {
    *out = fallback;
    return true;
  }
  return GetUint(env, v, key, max, out);
}

}  // namespace ovnet
