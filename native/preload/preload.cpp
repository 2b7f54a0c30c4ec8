// A libtorch-free addon the loader (lib/native/addon-loader.ts) runs first: it loads the chosen libtorch's
// libraries by absolute path, so that when bert_embed_native.node is loaded its NEEDED entries (libc10.so,
// libtorch.so, ...) bind by soname to those already in the process, wherever that libtorch lives, with no
// LD_LIBRARY_PATH and no RPATH baked into a prebuilt addon.
#include <dlfcn.h>

#include <napi.h>

namespace {

// load(paths: string[]): loads each library for the life of the process (never closed).
Napi::Value Load(const Napi::CallbackInfo& info) {
  const Napi::Array paths = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < paths.Length(); ++i) {
    const std::string path = paths.Get(i).As<Napi::String>().Utf8Value();
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
      const char* reason = dlerror();
      throw Napi::Error::New(info.Env(), reason != nullptr ? reason : ("cannot load " + path));
    }
  }
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New(env, Load));
  return exports;
}

}  // namespace

NODE_API_MODULE(bert_embed_preload, Init)
