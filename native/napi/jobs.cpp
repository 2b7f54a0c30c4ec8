#include "napi/jobs.h"

#include <c10/core/InferenceMode.h>

#include "engine/cpu_allocator.h"
#include "engine/cpu_threads.h"
#include "engine/device.h"
#include "heads/registry.h"
#include "napi/js_values.h"

namespace bert_embed {
namespace {

BertConfig readConfig(const Napi::Object& object) {
  BertConfig config;
  config.vocabSize = intField(object, "vocabSize");
  config.hiddenSize = intField(object, "hiddenSize");
  config.numLayers = intField(object, "numLayers");
  config.numHeads = intField(object, "numHeads");
  config.intermediateSize = intField(object, "intermediateSize");
  config.maxPositions = intField(object, "maxPositions");
  config.typeVocabSize = intField(object, "typeVocabSize");
  config.layerNormEps = numberField(object, "layerNormEps");
  config.hiddenAct = stringField(object, "hiddenAct");
  return config;
}

std::vector<TensorLocation> readLocations(const Napi::Array& array) {
  std::vector<TensorLocation> locations;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    auto object = array.Get(i).As<Napi::Object>();
    TensorLocation location;
    location.name = stringField(object, "name");
    location.storedName = stringField(object, "storedName");
    location.file = stringField(object, "file");
    location.dtype = stringField(object, "dtype");
    location.shape = intArrayField(object, "shape");
    location.begin = static_cast<uint64_t>(intField(object, "begin"));
    location.end = static_cast<uint64_t>(intField(object, "end"));
    location.transposed = boolField(object, "transposed");
    // TensorFlow's checkpoints carry one; safetensors files have none.
    const auto crc = object.Get("crc32c");
    if (!crc.IsUndefined()) location.maskedCrc32c = static_cast<uint32_t>(crc.As<Napi::Number>().Int64Value());
    locations.push_back(std::move(location));
  }
  return locations;
}

// A head's settings read from the batch's `head` object.
class NapiHeadSettings : public HeadSettings {
 public:
  explicit NapiHeadSettings(Napi::Object object) : object_(std::move(object)) {}
  int64_t integer(const char* name) const override { return intField(object_, name); }
  bool flag(const char* name) const override { return boolField(object_, name); }
  std::string text(const char* name) const override { return stringField(object_, name); }
  std::vector<int64_t> integers(const char* name) const override { return intArrayField(object_, name); }

 private:
  Napi::Object object_;
};

// Both formats arrive as a list of tensor locations (lib/model/safetensors-index.ts, lib/model/tf-checkpoint/).
bool isTensorList(const std::string& format) { return format == "safetensors" || format == "tf-checkpoint"; }

torch::Tensor longTensor(const std::vector<int64_t>& values, int64_t rows, int64_t columns) {
  return torch::from_blob(const_cast<int64_t*>(values.data()), {rows, columns}, torch::kLong).clone();
}

}  // namespace

BertRunner& ModelSlot::loaded() {
  if (!runner) throw CodedError("ERR_NOT_LOADED", "the model is not loaded");
  return *runner;
}

LoadJob::LoadJob(Napi::Env env, const Napi::Object& spec) : Job(env) {
  format_ = stringField(spec, "format");
  path_ = stringField(spec, "path");
  device_ = stringField(spec, "device");
  dtype_ = stringField(spec, "dtype");
  threads_ = intField(spec, "threads");
  blasThreads_ = intField(spec, "blasThreads");
  gpuMemoryFraction_ = numberField(spec, "gpuMemoryFraction");
  if (isTensorList(format_)) {
    config_ = readConfig(field(spec, "config").As<Napi::Object>());
    locations_ = readLocations(field(spec, "tensors").As<Napi::Array>());
  }
}

void LoadJob::execute(ModelSlot& slot) {
  // Intra-op parallelism is a per-thread setting: it must be made on the thread that runs forward.
  configureCpuThreads(static_cast<int>(threads_), static_cast<int>(blasThreads_));
  const CpuBlockCachePause pauseCaching;
  auto device = parseDevice(device_);
  if (device.is_cuda() && gpuMemoryFraction_ > 0) limitCudaMemory(device, gpuMemoryFraction_);
  // int8: float32 activations, quantized linear weights (BertRunner::quantizeLinearLayers).
  const bool int8 = dtype_ == "int8";
  auto dtype = int8 ? torch::kFloat32 : parseDtype(dtype_, device);
  // bfloat16 on the CPU: made in float32, then bf16 linear kernels or the whole model in bfloat16
  // (BertRunner::useCpuBFloat16).
  const bool cpuBf16 = dtype == torch::kBFloat16 && device.is_cpu();
  if (cpuBf16) dtype = torch::kFloat32;
  if (isTensorList(format_)) {
    slot.runner = std::make_unique<BertRunner>(BertRunner::fromSafetensors(path_, config_, locations_, device, dtype));
  } else {
    slot.runner = std::make_unique<BertRunner>(BertRunner::fromTorchScript(path_, device, dtype));
  }
  if (int8) slot.runner->quantizeLinearLayers();
  else if (cpuBf16) slot.runner->useCpuBFloat16();
  else slot.runner->packCpuLinearLayers();
  heads_ = availableHeads(*slot.runner);
}

Napi::Value LoadJob::result(Napi::Env env) {
  auto info = Napi::Object::New(env);
  auto heads = Napi::Array::New(env, heads_.size());
  for (size_t i = 0; i < heads_.size(); ++i) heads.Set(static_cast<uint32_t>(i), Napi::String::New(env, heads_[i]));
  info.Set("heads", heads);
  info.Set("threads", Napi::Number::New(env, static_cast<double>(threads_)));
  info.Set("blasThreads", Napi::Number::New(env, static_cast<double>(blasThreadCount())));
  return info;
}

EncodeJob::EncodeJob(Napi::Env env, const Napi::Object& batch) : Job(env) {
  ids_ = intArrayField(batch, "ids");
  typeIds_ = intArrayField(batch, "typeIds");
  lengths_ = intArrayField(batch, "lengths");
  batchSize_ = intField(batch, "batchSize");
  seqLen_ = intField(batch, "seqLen");
  if (batch.Has("payload") && !batch.Get("payload").IsUndefined()) payload_ = intArrayField(batch, "payload");
  auto head = field(batch, "head").As<Napi::Object>();
  headKind_ = stringField(head, "kind");
  try {
    head_ = headEntry(headKind_).make(NapiHeadSettings(head), batchSize_, payload_.size());
  } catch (const CodedError& error) {
    throw Napi::RangeError::New(env, error.what());
  }
  const auto cells = static_cast<size_t>(batchSize_ * seqLen_);
  if (ids_.size() != cells || typeIds_.size() != cells || lengths_.size() != static_cast<size_t>(batchSize_)) {
    throw Napi::RangeError::New(env, "native batch arrays do not match batchSize × seqLen");
  }
}

void EncodeJob::execute(ModelSlot& slot) {
  c10::InferenceMode inferenceMode;
  auto& runner = slot.loaded();
  const auto& entry = headEntry(headKind_);
  if (!entry.available(runner)) throw CodedError(entry.missingCode, std::string("the model has no ") + entry.kind + " head");
  auto ids = longTensor(ids_, batchSize_, seqLen_);
  auto typeIds = longTensor(typeIds_, batchSize_, seqLen_);
  auto lengths = torch::from_blob(lengths_.data(), {batchSize_, 1}, torch::kLong);
  auto mask = torch::arange(seqLen_, torch::kLong).unsqueeze(0) < lengths;
  const BatchThreads threads(runner.device().is_cpu(), batchSize_ * seqLen_);
  auto hidden = runner.hiddenStates(ids, typeIds, mask, head_->deepestLayer(runner), head_->readsFirstTokenOnly());
  auto device = runner.device();
  const auto deviceIds = ids.to(device), deviceMask = mask.to(device);
  output_ = head_->run(runner, HeadInput{hidden, deviceIds, deviceMask, lengths_, payload_}).contiguous();
}

Napi::Value EncodeJob::result(Napi::Env env) {
  // The Float32Array views the result tensor's memory; the tensor lives until the buffer is collected.
  auto* kept = new torch::Tensor(std::move(output_));
  auto buffer = Napi::ArrayBuffer::New(
      env, kept->data_ptr(), kept->nbytes(), [](Napi::Env, void*, torch::Tensor* tensor) { delete tensor; }, kept);
  auto shape = Napi::Array::New(env, kept->dim());
  for (int64_t i = 0; i < kept->dim(); ++i) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(kept->size(i))));
  auto result = Napi::Object::New(env);
  result.Set("data", Napi::Float32Array::New(env, static_cast<size_t>(kept->numel()), buffer, 0));
  result.Set("shape", shape);
  return result;
}

}  // namespace bert_embed
