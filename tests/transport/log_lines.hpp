// One node's log events (its System's Config::log), their messages kept as lines for assertions.
// Declare it before the System whose config() it is: the sink is called until the System is gone.
#pragma once

#include <troupe/system.hpp>

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace transport_test {

struct LogLines {
  // Only the events of node `node` (a System may run several); empty: every event.
  explicit LogLines(std::string node_name = {}) : node(std::move(node_name)) {}

  const std::string node;
  std::mutex mutex;
  std::vector<std::string> lines;  // the events' messages

  // For Config::log: every level.
  troupe::LogConfig config() {
    return {.sink =
                [this](const troupe::LogEvent& e) {
                  // A shutdown that hangs says why in the test's output too: no assertion reads it.
                  if (e.name == "shutdown_waiting") troupe::log_to_stderr(e);
                  if (!node.empty() && e.node != node) return;
                  std::lock_guard lock(mutex);
                  lines.emplace_back(e.message);
                },
            .level = troupe::LogLevel::debug};
  }
  bool contains(std::string_view text) {
    std::lock_guard lock(mutex);
    for (const auto& l : lines) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace transport_test
