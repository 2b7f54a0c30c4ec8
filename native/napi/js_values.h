#pragma once
// Reading the plain objects that lib/native/binding.ts builds. The TypeScript layer has already
// validated every value for the user; a mismatch here is a bug in that layer, so it throws a TypeError.
#include <napi.h>

#include <string>
#include <vector>

namespace bert_embed {

inline Napi::Value field(const Napi::Object& object, const char* key) {
  auto value = object.Get(key);
  if (value.IsUndefined()) throw Napi::TypeError::New(object.Env(), std::string("native spec is missing ") + key);
  return value;
}

inline std::string stringField(const Napi::Object& object, const char* key) {
  return field(object, key).As<Napi::String>().Utf8Value();
}

inline int64_t intField(const Napi::Object& object, const char* key) {
  return field(object, key).As<Napi::Number>().Int64Value();
}

inline double numberField(const Napi::Object& object, const char* key) {
  return field(object, key).As<Napi::Number>().DoubleValue();
}

inline bool boolField(const Napi::Object& object, const char* key) {
  return field(object, key).As<Napi::Boolean>().Value();
}

inline std::vector<int64_t> intArrayField(const Napi::Object& object, const char* key) {
  auto value = field(object, key);
  std::vector<int64_t> result;
  if (value.IsTypedArray()) {
    auto array = value.As<Napi::Int32Array>();
    result.assign(array.Data(), array.Data() + array.ElementLength());
    return result;
  }
  auto array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) result.push_back(array.Get(i).As<Napi::Number>().Int64Value());
  return result;
}

}  // namespace bert_embed
