#pragma once
// Failures travel from worker threads to the JS thread as plain data: a message and a code.
// Worker threads never create JS errors themselves.
#include <c10/util/Exception.h>

#include <exception>
#include <string>
#include <utility>

namespace bert_embed {

struct JobError {
  std::string message;
  std::string code;
  bool failed() const { return !code.empty(); }
};

// An error raised on purpose, with the code the JS layer will see.
class CodedError : public std::runtime_error {
 public:
  CodedError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// Runs work() and turns anything it throws into a JobError, keeping libtorch's message
// without its C++ backtrace.
template <typename Work>
JobError captureErrors(Work&& work) {
  try {
    work();
    return {};
  } catch (const CodedError& e) {
    return {e.what(), e.code()};
  } catch (const c10::OutOfMemoryError& e) {
    // Device memory: the scheduler splits the batch and retries on this code.
    return {e.what_without_backtrace(), "ERR_OUT_OF_MEMORY"};
  } catch (const c10::Error& e) {
    return {e.what_without_backtrace(), "ERR_TORCH"};
  } catch (const std::bad_alloc&) {
    return {"out of memory", "ERR_OUT_OF_MEMORY"};
  } catch (const std::exception& e) {
    return {e.what(), "ERR_NATIVE"};
  } catch (...) {
    return {"unknown native error", "ERR_NATIVE"};
  }
}

}  // namespace bert_embed
