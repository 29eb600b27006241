#pragma once

#include <napi.h>

namespace ovnet {

// sdNotify(socketPath: string, message: string) -> boolean (false: not delivered)
Napi::Value SdNotify(const Napi::CallbackInfo& info);

}  // namespace ovnet
