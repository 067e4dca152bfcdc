// Collects what Config hooks report, for assertions on the test thread.
#pragma once

#include <troupe/troupe.hpp>

#include <mutex>
#include <string>
#include <vector>

namespace troupe_test {

struct ExitRecord {
  std::string actor;
  troupe::ExitReason reason;
};

struct DeadLetterRecord {
  std::string message_type;
  std::string receiver;
  troupe::DeadLetter::Reason reason;
  bool was_request;
};

class HookLog {
 public:
  // A Config whose hooks record into this log.
  troupe::Config config(unsigned workers = 2) {
    troupe::Config c{.workers = workers};
    c.on_actor_exit = [this](const troupe::ExitInfo& info) {
      std::lock_guard lock(mutex_);
      exits_.push_back({std::string(info.actor), info.reason});
    };
    c.on_dead_letter = [this](const troupe::DeadLetter& d) {
      std::lock_guard lock(mutex_);
      dead_letters_.push_back({std::string(d.message_type), std::string(d.receiver), d.reason, d.was_request});
    };
    return c;
  }

  std::vector<ExitRecord> exits() {
    std::lock_guard lock(mutex_);
    return exits_;
  }
  std::size_t exit_count() {
    std::lock_guard lock(mutex_);
    return exits_.size();
  }
  std::vector<DeadLetterRecord> dead_letters() {
    std::lock_guard lock(mutex_);
    return dead_letters_;
  }
  std::size_t dead_letter_count() {
    std::lock_guard lock(mutex_);
    return dead_letters_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<ExitRecord> exits_;
  std::vector<DeadLetterRecord> dead_letters_;
};

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace troupe_test
