# Build of the teredo_io addon (native/src). Run by `npm ci` through native/build.mjs; output native/build/Release.
{
  "targets": [
    {
      "target_name": "teredo_io",
      "sources": ["src/addon.c", "src/common.c", "src/poller.c", "src/tun.c", "src/icmp6.c", "src/udp.c", "src/raw6.c", "src/vnet.c", "src/tun-offload.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
