{
  "targets": [
    {
      "target_name": "sockpit_native",
      "sources": [
        "src/binding.cc",
        "src/errors.cc",
        "src/mount.cc",
        "src/spawn.cc",
        "src/netns.cc",
        "src/landlock.cc",
        "src/pidfd.cc",
        "src/fdpass.cc",
        "src/self.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "_GNU_SOURCE"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
