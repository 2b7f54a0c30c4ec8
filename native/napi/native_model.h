#pragma once
#include <napi.h>

#include <memory>

#include "engine/worker.h"
#include "napi/jobs.h"

namespace bert_embed {

// The JS handle of one model replica and its worker thread. Every method returns a promise;
// the work runs on the worker and the promise settles on the JS thread through a
// thread-safe function.
class NativeModel : public Napi::ObjectWrap<NativeModel> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit NativeModel(const Napi::CallbackInfo& info);
  ~NativeModel() override;

 private:
  static void deliver(Napi::Env env, Napi::Function unused, NativeModel* model, std::shared_ptr<Job>* job);
  using Delivery = Napi::TypedThreadSafeFunction<NativeModel, std::shared_ptr<Job>, &NativeModel::deliver>;

  Napi::Value load(const Napi::CallbackInfo& info);
  Napi::Value encode(const Napi::CallbackInfo& info);
  Napi::Value save(const Napi::CallbackInfo& info);
  Napi::Value close(const Napi::CallbackInfo& info);

  template <typename MakeJob>
  Napi::Value submit(Napi::Env env, MakeJob&& makeJob);
  void settled(Napi::Env env, const Job& job);
  void shutDown();

  std::shared_ptr<ModelSlot> slot_ = std::make_shared<ModelSlot>();
  std::unique_ptr<Worker> worker_ = std::make_unique<Worker>();
  Delivery delivery_;
  bool deliveryReleased_ = false;
  size_t inFlight_ = 0;
  bool closed_ = false;
  static void onEnvironmentTeardown(void* model);
  napi_env env_;
  bool cleanupHookRegistered_ = false;
};

}  // namespace bert_embed
