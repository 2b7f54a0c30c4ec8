#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace bert_embed {

// One dedicated native thread running tasks in the order they were posted.
// libtorch's per-thread settings (intra-op threads, inference mode) live on this thread,
// and the libuv pool is never used.
class Worker {
 public:
  using Task = std::function<void()>;

  Worker();
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void post(Task task);
  // Runs what is queued, then ends the thread. Idempotent.
  void finishAndJoin();
  // Drops what is queued, waits for the task in progress, then ends the thread. Idempotent.
  void abandonAndJoin();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bert_embed
