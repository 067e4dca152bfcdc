// The runs a member declared down, which it refuses as themselves (they rejoin as new
// incarnations: membership_rejoin.cpp), each for SeedDiscovery::remember_down_for.
//
// One entry per name, the latest run declared down. Without an end to it, a cluster whose nodes
// come and go under fresh names (containers, autoscaling) would keep an entry for every name it
// ever saw go down; so an entry is refused only until its time is up, and the entries whose time
// is up are dropped at the next down: the record holds the downs of the last remember_down_for,
// and one more at most. (Dropped then, not on a timer: a member with no seeds runs none.)
#pragma once

#include <troupe/request.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace troupe::transport::detail {

class DownedRuns {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `remember_for`: how long a down is refused; Duration::max() for ever, zero or less not at all.
  explicit DownedRuns(Duration remember_for) : remember_for_(remember_for) {}

  // Run `incarnation` of `name` was declared down at `now` (the name's earlier run, if any, is
  // forgotten: only the latest can come back).
  void declared_down(const std::string& name, std::uint64_t incarnation, TimePoint now) {
    std::erase_if(runs_, [now](const auto& entry) { return entry.second.until <= now; });
    // now + remember_for, but no further than the clock goes.
    const auto until = remember_for_ >= TimePoint::max() - now ? TimePoint::max() : now + remember_for_;
    runs_.insert_or_assign(name, Run{incarnation, until});
  }

  // Whether run `incarnation` of `name` was declared down here and is still refused at `now`.
  bool refuses(std::string_view name, std::uint64_t incarnation, TimePoint now) const {
    auto it = runs_.find(name);
    return it != runs_.end() && it->second.incarnation == incarnation && now < it->second.until;
  }

  // This node is a new run: it has declared no one down.
  void clear() noexcept { runs_.clear(); }

  // Entries held, some of them perhaps past their time (dropped at the next down).
  std::size_t size() const noexcept { return runs_.size(); }

 private:
  struct Run {
    std::uint64_t incarnation;
    TimePoint until;
  };
  Duration remember_for_;
  std::map<std::string, Run, std::less<>> runs_;
};

}  // namespace troupe::transport::detail
