// ovnet: what Node cannot do by itself for ovnetd, and nothing more. TAP devices, batched UDP
// for the VXLAN underlay, and the systemd notify datagram. No parsing, tables, configuration
// or logging here: all of that lives in TypeScript (src/io/ wraps this module).
#include <linux/if_tun.h>
#include <napi.h>

#include "notify.h"
#include "offload_api.h"
#include "tap.h"
#include "udp.h"

namespace ovnet {

// Per environment (main thread or worker): the classes behind tapOpen/udpOpen.
struct AddonData {
  Napi::FunctionReference tap;
  Napi::FunctionReference udp;
};

static Napi::Value TapOpen(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  return data->tap.New({info[0], info[1]});
}

static Napi::Value UdpOpen(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  return data->udp.New({info[0]});
}

static Napi::Object OffloadFlags(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("CSUM", TUN_F_CSUM);
  o.Set("TSO4", TUN_F_TSO4);
  o.Set("TSO6", TUN_F_TSO6);
  o.Set("TSO_ECN", TUN_F_TSO_ECN);
  o.Set("UFO", TUN_F_UFO);
  // Newer than some installed headers (Linux 6.2); the values are ABI.
  o.Set("USO4", 0x20);
  o.Set("USO6", 0x40);
  return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  data->tap = Napi::Persistent(TapHandle::Define(env));
  data->udp = Napi::Persistent(UdpHandle::Define(env));
  env.SetInstanceData(data);
  exports.Set("tapOpen", Napi::Function::New(env, TapOpen, "tapOpen"));
  exports.Set("udpOpen", Napi::Function::New(env, UdpOpen, "udpOpen"));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
  exports.Set("tunOffload", OffloadFlags(env));
  exports.Set("segmentFrame", Napi::Function::New(env, SegmentFrame, "segmentFrame"));
  exports.Set("coalesceFrames", Napi::Function::New(env, CoalesceFrames, "coalesceFrames"));
  return exports;
}

}  // namespace ovnet

static Napi::Object InitOvnet(Napi::Env env, Napi::Object exports) {
  return ovnet::Init(env, exports);
}

NODE_API_MODULE(ovnet, InitOvnet)
