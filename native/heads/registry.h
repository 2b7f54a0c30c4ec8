#pragma once
// The heads the addon has: one table, so that adding a head is one file and one line.
#include <string>
#include <vector>

#include "heads/head.h"

namespace bert_embed {

// The entry of head `kind`; ERR_INVALID_ARG for a kind the addon does not have.
const HeadEntry& headEntry(const std::string& kind);

// The kinds of every head `runner`'s model can run, in registry order.
std::vector<std::string> availableHeads(const BertRunner& runner);

}  // namespace bert_embed
