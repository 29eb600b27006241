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
      "src/udp_gso.cc",
      "src/gso_batch.cc",
      "src/tap_vnet.cc",
      "src/tcp_offload.cc",
      "src/csum.cc",
      "src/offload_api.cc",
      "src/notify.cc"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O3", "-std=c++17", "-Wall", "-Wextra"]
  }]
}
