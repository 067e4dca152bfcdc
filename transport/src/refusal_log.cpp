#include "refusal_log.hpp"

#include <iterator>

namespace troupe::transport::detail {

std::optional<RefusalLog::Verdict> RefusalLog::admit(const std::string& key, Clock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) forget_quiet(now);
    if (entries_.size() < capacity_) {
      entries_.emplace(key, Entry{now, 0});
      return Verdict{key, 0};
    }
    // Full of addresses refused within the interval: this one shares the overflow entry (which
    // may exceed the capacity by itself alone).
    it = entries_.find(kOtherAddresses);
    if (it == entries_.end()) {
      entries_.emplace(kOtherAddresses, Entry{now, 0});
      return Verdict{kOtherAddresses, 0};
    }
  }
  Entry& entry = it->second;
  if (now - entry.logged < interval_) {
    ++entry.unlogged;
    return std::nullopt;
  }
  Verdict verdict{it->first, entry.unlogged};
  entry = Entry{now, 0};
  return verdict;
}

void RefusalLog::forget_quiet(Clock::time_point now) {
  // An entry whose interval passed would allow its address's next line anyway: forgetting it
  // loses only its unlogged count (still in NodeStats::handshakes_refused), and only when the
  // table is full.
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now - it->second.logged >= interval_ ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace troupe::transport::detail
