#include "napi/native_model.h"

namespace bert_embed {

Napi::Function NativeModel::define(Napi::Env env) {
  return DefineClass(env, "NativeModel",
                     {InstanceMethod<&NativeModel::load>("load"), InstanceMethod<&NativeModel::encode>("encode"),
                      InstanceMethod<&NativeModel::save>("save"), InstanceMethod<&NativeModel::close>("close")});
}

NativeModel::NativeModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeModel>(info) {
  auto env = info.Env();
  delivery_ = Delivery::New(env, "bert-embed-native", 0, 1, this);
  // An idle model must not keep the process alive; submit() refs it while work is in flight.
  delivery_.Unref(env);
  // At process exit, stop the worker before libtorch's globals are torn down.
  env_ = env;
  cleanupHookRegistered_ = napi_add_env_cleanup_hook(env_, &NativeModel::onEnvironmentTeardown, this) == napi_ok;
}

NativeModel::~NativeModel() {
  shutDown();
  if (cleanupHookRegistered_) napi_remove_env_cleanup_hook(env_, &NativeModel::onEnvironmentTeardown, this);
}

void NativeModel::onEnvironmentTeardown(void* model) {
  auto* self = static_cast<NativeModel*>(model);
  self->cleanupHookRegistered_ = false;  // Node forgets a hook once it has run
  self->shutDown();
}

void NativeModel::shutDown() {
  worker_->abandonAndJoin();
  if (!deliveryReleased_) {
    deliveryReleased_ = true;
    delivery_.Release();
  }
}

template <typename MakeJob>
Napi::Value NativeModel::submit(Napi::Env env, MakeJob&& makeJob) {
  if (closed_) {
    auto deferred = Napi::Promise::Deferred::New(env);
    auto error = Napi::Error::New(env, "the encoder is closed");
    error.Set("code", Napi::String::New(env, "ERR_CLOSED"));
    deferred.Reject(error.Value());
    return deferred.Promise();
  }
  std::shared_ptr<Job> job;
  try {
    job = makeJob();
  } catch (const CodedError& e) {
    auto error = Napi::Error::New(env, e.what());
    error.Set("code", Napi::String::New(env, e.code()));
    throw error;
  }
  if (inFlight_++ == 0) {
    Ref();  // keep this wrapper (the deliver context) alive until its work is settled
    delivery_.Ref(env);
  }
  if (job->closesModel()) closed_ = true;
  auto slot = slot_;
  auto delivery = delivery_;
  worker_->post([job, slot, delivery]() mutable {
    job->error = captureErrors([&] { job->execute(*slot); });
    auto* handoff = new std::shared_ptr<Job>(job);
    if (delivery.BlockingCall(handoff) != napi_ok) delete handoff;  // only when the process is exiting
  });
  return job->deferred.Promise();
}

void NativeModel::deliver(Napi::Env env, Napi::Function, NativeModel* model, std::shared_ptr<Job>* handoff) {
  std::unique_ptr<std::shared_ptr<Job>> owned(handoff);
  if (env == nullptr) return;  // the thread-safe function is being torn down
  Job& job = **owned;
  if (job.error.failed()) {
    auto error = Napi::Error::New(env, job.error.message);
    error.Set("code", Napi::String::New(env, job.error.code));
    job.deferred.Reject(error.Value());
  } else {
    try {
      job.deferred.Resolve(job.result(env));
    } catch (const Napi::Error& error) {
      job.deferred.Reject(error.Value());
    }
  }
  model->settled(env, job);
}

void NativeModel::settled(Napi::Env env, const Job& job) {
  if (job.closesModel()) {
    worker_->finishAndJoin();
    if (!deliveryReleased_) {
      deliveryReleased_ = true;
      delivery_.Release();
    }
  }
  if (--inFlight_ == 0) {
    if (!deliveryReleased_) delivery_.Unref(env);
    Unref();
  }
}

Napi::Value NativeModel::load(const Napi::CallbackInfo& info) {
  auto spec = info[0].As<Napi::Object>();
  return submit(info.Env(), [&] { return std::make_shared<LoadJob>(info.Env(), spec); });
}

Napi::Value NativeModel::encode(const Napi::CallbackInfo& info) {
  auto batch = info[0].As<Napi::Object>();
  return submit(info.Env(), [&] { return std::make_shared<EncodeJob>(info.Env(), batch); });
}

Napi::Value NativeModel::save(const Napi::CallbackInfo& info) {
  auto path = info[0].As<Napi::String>().Utf8Value();
  return submit(info.Env(), [&] { return std::make_shared<SaveJob>(info.Env(), path); });
}

Napi::Value NativeModel::close(const Napi::CallbackInfo& info) {
  return submit(info.Env(), [&] { return std::make_shared<CloseJob>(info.Env()); });
}

}  // namespace bert_embed
