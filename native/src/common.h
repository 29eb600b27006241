// Shared helpers for the addon: error objects and checked views of JavaScript typed arrays.
// Every error the addon throws is a plain Error with code 'OVN_ERR_NATIVE', an `errno` name
// ('EPERM', or 'EINVAL' for a bad argument) and, for failed system calls, a `syscall` name.
// src/io/native.ts turns these into OvnError.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ovnet {

// Symbolic errno name ("EAGAIN"); "errno 123" for unknown values.
std::string ErrnoName(int err);

// "<what>: <syscall> failed: EPERM (Operation not permitted)"
void ThrowErrno(Napi::Env env, const std::string& what, const char* syscall, int err);
// A bad argument, found before any system call.
void ThrowInvalid(Napi::Env env, const std::string& message);

struct Bytes {
  uint8_t* data = nullptr;
  size_t len = 0;
};

// Each returns false (with a pending TypeError) unless `v` is the right kind of array holding
// at least `minLen` elements.
bool GetBytes(Napi::Env env, const Napi::Value& v, const char* what, Bytes* out);
bool GetU32(Napi::Env env, const Napi::Value& v, const char* what, size_t minLen, uint32_t** out);
bool GetI32(Napi::Env env, const Napi::Value& v, const char* what, size_t minLen, int32_t** out);
bool GetU16(Napi::Env env, const Napi::Value& v, const char* what, size_t minLen, uint16_t** out);

// A non-negative integer argument no larger than `max`; false (pending RangeError) otherwise.
bool GetUint(Napi::Env env, const Napi::Value& v, const char* what, uint32_t max, uint32_t* out);

// Optional property of an options object: `fallback` when absent or undefined.
bool OptBool(const Napi::Object& o, const char* key, bool fallback);
bool OptUint(Napi::Env env, const Napi::Object& o, const char* key, uint32_t max, uint32_t fallback,
             uint32_t* out);

}  // namespace ovnet
