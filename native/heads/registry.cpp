#include "heads/registry.h"

#include <array>

#include "common/job_error.h"

namespace bert_embed {

// Each defined in its own file.
extern const HeadEntry kPooledHead;
extern const HeadEntry kMaskedLmHead;
extern const HeadEntry kSparseHead;
extern const HeadEntry kSequenceClassifierHead;
extern const HeadEntry kTokenClassifierHead;

namespace {

const std::array<const HeadEntry*, 5>& registry() {
  static const std::array<const HeadEntry*, 5> entries{&kPooledHead, &kMaskedLmHead, &kSparseHead, &kSequenceClassifierHead, &kTokenClassifierHead};
  return entries;
}

}  // namespace

const HeadEntry& headEntry(const std::string& kind) {
  for (const auto* entry : registry()) {
    if (kind == entry->kind) return *entry;
  }
  throw CodedError("ERR_INVALID_ARG", "unknown head " + kind);
}

std::vector<std::string> availableHeads(const BertRunner& runner) {
  std::vector<std::string> kinds;
  for (const auto* entry : registry()) {
    if (entry->available(runner)) kinds.emplace_back(entry->kind);
  }
  return kinds;
}

}  // namespace bert_embed
