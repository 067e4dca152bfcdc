#include "node_log.hpp"

#include <chrono>
#include <iostream>

namespace troupe::transport::detail {
namespace {

// At most one log line per address per interval about refused connections; so many addresses
// remembered (refusal_log.hpp).
constexpr std::chrono::seconds kRefusalLogInterval{5};
constexpr std::size_t kRefusalLogAddresses = 256;

}  // namespace

NodeLog::NodeLog(const NodeConfig& config, NodeCounters& counters)
    : config_(config), counters_(counters), refusal_log_(kRefusalLogInterval, kRefusalLogAddresses) {}

void NodeLog::line(const std::string& text) {
  const std::string full = "troupe node '" + config_.name + "': " + text;
  if (config_.log) {
    config_.log(full);
  } else {
    std::cerr << full << '\n';
  }
}

void NodeLog::refuse(const PeerAddress& from, const std::string& why) {
  NodeCounters::add(counters_.refused);
  const auto verdict = refusal_log_.admit(from.key, std::chrono::steady_clock::now());
  if (!verdict) return;  // this address had a line a moment ago
  std::string text = "refused " + from.text + ": " + why;
  if (verdict->unlogged != 0) {
    text += " (" + std::to_string(verdict->unlogged) + " more refused from " + verdict->key + " since the last line)";
  }
  line(text);
}

}  // namespace troupe::transport::detail
