// A sink for Config::log that keeps every event (copied: a LogEvent's views live only during the
// call), for assertions on what the system and its nodes log.
#pragma once

#include <troupe/system.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe_test {

struct RecordedEvent {
  troupe::LogLevel level;
  std::string name;
  std::string message;
  std::string node;
  std::string peer;
  std::string actor;
  std::string reason;
  std::map<std::string, std::string> fields;

  std::string field(const std::string& key) const {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
  }
};

class LogRecorder {
 public:
  // The sink for Config::log (or LogConfig::sink). The recorder must outlive the system.
  troupe::LogSink sink() {
    return [this](const troupe::LogEvent& e) {
      // A shutdown that hangs says why in the test's output too, whatever the test asserts.
      if (e.name == "shutdown_waiting") troupe::log_to_stderr(e);
      RecordedEvent copy{e.level,
                         std::string(e.name),
                         std::string(e.message),
                         std::string(e.node),
                         std::string(e.peer),
                         std::string(e.actor),
                         std::string(e.reason),
                         {}};
      for (const auto& f : e.fields) copy.fields.emplace(f.key, f.value);
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(copy));
    };
  }
  troupe::LogConfig config(troupe::LogLevel level = troupe::LogLevel::debug) { return {sink(), level}; }

  std::vector<RecordedEvent> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // The events named `name` (from node `node`, unless empty).
  std::vector<RecordedEvent> named(std::string_view name, std::string_view node = {}) const {
    std::vector<RecordedEvent> found;
    std::lock_guard lock(mutex_);
    for (const auto& e : events_) {
      if (e.name == name && (node.empty() || e.node == node)) found.push_back(e);
    }
    return found;
  }
  std::optional<RecordedEvent> first(std::string_view name, std::string_view node = {}) const {
    auto found = named(name, node);
    if (found.empty()) return std::nullopt;
    return found.front();
  }
  // Whether an event from node `node` (any, if empty) has `text` in its message.
  bool contains(std::string_view text, std::string_view node = {}) const {
    std::lock_guard lock(mutex_);
    for (const auto& e : events_) {
      if ((node.empty() || e.node == node) && e.message.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<RecordedEvent> events_;
};

}  // namespace troupe_test
