#pragma once
// Jobs: plain C++ structs filled on the JS thread, executed on the model's worker thread,
// and turned back into JS values on the JS thread.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "common/job_error.h"
#include "heads/head.h"
#include "model/bert_runner.h"

namespace bert_embed {

// What the worker thread owns: the model, once loaded.
struct ModelSlot {
  std::unique_ptr<BertRunner> runner;
  BertRunner& loaded();
};

class Job {
 public:
  explicit Job(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  virtual ~Job() = default;
  virtual void execute(ModelSlot& slot) = 0;  // worker thread
  virtual Napi::Value result(Napi::Env env) { return env.Undefined(); }  // JS thread
  virtual bool closesModel() const { return false; }

  Napi::Promise::Deferred deferred;
  JobError error;
};

class LoadJob : public Job {
 public:
  LoadJob(Napi::Env env, const Napi::Object& spec);
  void execute(ModelSlot& slot) override;
  Napi::Value result(Napi::Env env) override;

 private:
  std::string format_, path_, device_, dtype_;
  int64_t threads_ = 0, blasThreads_ = 0;
  /** 0: no limit */
  double gpuMemoryFraction_ = 0;
  std::vector<std::string> heads_;
  BertConfig config_;
  std::vector<TensorLocation> locations_;
};

class EncodeJob : public Job {
 public:
  EncodeJob(Napi::Env env, const Napi::Object& batch);
  void execute(ModelSlot& slot) override;
  Napi::Value result(Napi::Env env) override;

 private:
  std::vector<int64_t> ids_, typeIds_, lengths_, payload_;
  int64_t batchSize_ = 0, seqLen_ = 0;
  std::string headKind_;
  std::unique_ptr<Head> head_;
  torch::Tensor output_;
};

class SaveJob : public Job {
 public:
  SaveJob(Napi::Env env, std::string path) : Job(env), path_(std::move(path)) {}
  void execute(ModelSlot& slot) override { slot.loaded().save(path_); }

 private:
  std::string path_;
};

class CloseJob : public Job {
 public:
  using Job::Job;
  void execute(ModelSlot& slot) override { slot.runner.reset(); }
  bool closesModel() const override { return true; }
};

}  // namespace bert_embed
