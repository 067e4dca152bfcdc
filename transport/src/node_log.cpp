#include "node_log.hpp"

#include <chrono>

namespace troupe::transport::detail {
namespace {

// At most one event per address per interval about refused connections; so many addresses
// remembered (refusal_log.hpp).
constexpr std::chrono::seconds kRefusalLogInterval{5};
constexpr std::size_t kRefusalLogAddresses = 256;

}  // namespace

NodeLog::NodeLog(runtime::Logger logger, std::string node, NodeCounters& counters)
    : NodeLogger(std::move(logger), std::move(node)),
      counters_(counters),
      refusal_log_(kRefusalLogInterval, kRefusalLogAddresses) {}

void NodeLog::refuse(const PeerAddress& from, RefusalCause cause, const std::string& why) {
  NodeCounters::add(counters_.refused);
  NodeCounters::add(counters_.refused_by_cause[static_cast<std::size_t>(cause)]);
  if (!enabled(LogLevel::warning)) return;  // nothing to limit: the count above is all
  const auto verdict = refusal_log_.admit(from.key, std::chrono::steady_clock::now());
  if (!verdict) return;  // this address had an event a moment ago
  std::string message = "refused " + from.text + ": " + why;
  const std::string unlogged = std::to_string(verdict->unlogged);
  const std::string& address = from.address.empty() ? from.text : from.address;
  const LogField fields[] = {{"address", address}, {"unlogged", unlogged}};
  if (verdict->unlogged != 0) {
    message += " (" + unlogged + " more refused from " + verdict->key + " since the last line)";
  }
  // The peer: the node dialled, or else (not authenticated) only its address.
  log({.level = LogLevel::warning,
       .name = "connection_refused",
       .message = message,
       .peer = from.node.empty() ? address : from.node,
       .reason = why,
       .fields = std::span<const LogField>(fields, verdict->unlogged != 0 ? 2 : 1)});
}

}  // namespace troupe::transport::detail
