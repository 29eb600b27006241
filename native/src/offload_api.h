#pragma once

#include <napi.h>

namespace ovnet {

// segmentFrame(frame: Buffer, vnetHdr: Buffer, maxFrame: number) -> Buffer[] | null
Napi::Value SegmentFrame(const Napi::CallbackInfo& info);
// coalesceFrames(frames: Buffer[]) -> { vnetHdr: Buffer, frame: Buffer }[]
Napi::Value CoalesceFrames(const Napi::CallbackInfo& info);

}  // namespace ovnet
