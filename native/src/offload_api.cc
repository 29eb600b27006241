// The segmentation and coalescing of tcp_offload.h exposed to JavaScript, for tests and
// benchmarks only (the data path calls them from udp_gso.cc and tap_vnet.cc). COLD PATH:
// these allocate a Buffer per frame.
#include "offload_api.h"

#include <cstring>
#include <vector>

#include "common.h"
#include "tcp_offload.h"

namespace ovnet {

// segmentFrame(frame, vnetHdr, maxFrame) -> Buffer[] | null
// What the send path puts behind each VXLAN header: the segments of a GSO super-frame, or the
// frame itself with its partial checksum completed. null when the frame is refused.
Napi::Value SegmentFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes frame, vnet;
  uint32_t maxFrame;
  if (!GetBytes(env, info[0], "frame", &frame) || !GetBytes(env, info[1], "vnetHdr", &vnet) ||
      !GetUint(env, info[2], "maxFrame", 1u << 20, &maxFrame)) {
    return env.Undefined();
  }
  if (vnet.len < 10) {
    ThrowInvalid(env, "segmentFrame: vnetHdr must hold at least 10 bytes");
    return env.Undefined();
  }
  uint8_t hdr[kVnetHdrLen] = {};
  std::memcpy(hdr, vnet.data, vnet.len < kVnetHdrLen ? vnet.len : kVnetHdrLen);
  VnetHdr h = ReadVnet(hdr);
  std::vector<uint8_t> f(frame.data, frame.data + frame.len);
  Napi::Array out = Napi::Array::New(env);
  if ((h.gsoType & ~kGsoEcn) == kGsoNone) {
    if (!CompleteChecksum(f.data(), static_cast<uint32_t>(f.size()), h)) return env.Null();
    out.Set(0u, Napi::Buffer<uint8_t>::Copy(env, f.data(), f.size()));
    return out;
  }
  SegPlan plan;
  if (!PlanSegments(f.data(), static_cast<uint32_t>(f.size()), h, maxFrame, &plan)) return env.Null();
  for (uint32_t k = 0; k < plan.count; k++) {
    uint32_t plen = SegmentPayloadLen(plan, k);
    Napi::Buffer<uint8_t> seg = Napi::Buffer<uint8_t>::New(env, plan.t.hdrLen + plen);
    WriteSegmentHeaders(f.data(), plan, k, seg.Data());
    std::memcpy(seg.Data() + plan.t.hdrLen, f.data() + SegmentPayloadAt(plan, k), plen);
    out.Set(k, seg);
  }
  return out;
}

// coalesceFrames(frames: Buffer[]) -> {vnetHdr: Buffer, frame: Buffer}[]
// What the TAP write path makes of a list of frames: super-frames with a GSO header, or the
// frames as they are behind a zero header.
Napi::Value CoalesceFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) {
    Napi::TypeError::New(env, "frames must be an array of Buffers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array in = info[0].As<Napi::Array>();
  std::vector<FrameRef> frames(in.Length());
  for (uint32_t i = 0; i < in.Length(); i++) {
    Bytes b;
    if (!GetBytes(env, in.Get(i), "frames[i]", &b)) return env.Undefined();
    frames[i] = FrameRef{b.data, static_cast<uint32_t>(b.len)};
  }
  Napi::Array out = Napi::Array::New(env);
  uint8_t hdr[kVnetHdrLen + kMaxHeaders];
  uint32_t i = 0, k = 0;
  while (i < frames.size()) {
    Run run;
    uint32_t rest = static_cast<uint32_t>(frames.size()) - i;
    uint32_t n = FindRun(&frames[i], rest < 64 ? rest : 64, &run);
    Napi::Object o = Napi::Object::New(env);
    if (n == 1) {
      o.Set("vnetHdr", Napi::Buffer<uint8_t>::New(env, kVnetHdrLen));
      std::memset(o.Get("vnetHdr").As<Napi::Buffer<uint8_t>>().Data(), 0, kVnetHdrLen);
      o.Set("frame", Napi::Buffer<uint8_t>::Copy(env, frames[i].p, frames[i].len));
    } else {
      WriteRunHeaders(frames[i], run, hdr);
      uint32_t hl = run.head.hdrLen;
      Napi::Buffer<uint8_t> f = Napi::Buffer<uint8_t>::New(env, hl + run.payload);
      std::memcpy(f.Data(), hdr + kVnetHdrLen, hl);
      uint32_t at = hl;
      for (uint32_t j = 0; j < n; j++) {
        std::memcpy(f.Data() + at, frames[i + j].p + hl, frames[i + j].len - hl);
        at += frames[i + j].len - hl;
      }
      o.Set("vnetHdr", Napi::Buffer<uint8_t>::Copy(env, hdr, kVnetHdrLen));
      o.Set("frame", f);
    }
    out.Set(k++, o);
    i += n;
  }
  return out;
}

}  // namespace ovnet
