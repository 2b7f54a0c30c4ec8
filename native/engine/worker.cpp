#include "engine/worker.h"

namespace bert_embed {

Worker::Worker() : thread_([this] { run(); }) {}

Worker::~Worker() { abandonAndJoin(); }

void Worker::post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void Worker::finishAndJoin() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Worker::abandonAndJoin() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.clear();
  }
  finishAndJoin();
}

void Worker::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace bert_embed
