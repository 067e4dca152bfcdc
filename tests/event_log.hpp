// A list of events that several threads add to (actors' handlers, hooks) and a test reads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace troupe_test {

class EventLog {
 public:
  void add(std::string e) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // The events from index `from` on.
  std::vector<std::string> since(std::size_t from) {
    std::lock_guard lock(mutex_);
    return {events_.begin() + static_cast<std::ptrdiff_t>(std::min(from, events_.size())), events_.end()};
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return events_.size();
  }
  // How many times `e` was added.
  std::size_t count(const std::string& e) {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count(events_.begin(), events_.end(), e));
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> events_;
};

}  // namespace troupe_test
