{
  "targets": [{
    "target_name": "ovnet",
    "sources": [
      "src/addon.cc",
      "src/common.cc",
      "src/poller.cc",
      "src/tap.cc",
      "src/udp.cc",
      "src/udp_send.cc",
      "src/udp_socket.cc",
      "src/notify.cc"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra"]
  }]
}
