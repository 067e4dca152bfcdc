// Internal: how another layer (the cluster, issue 13) extends a System's process groups across
// nodes. Not part of the user API; nothing but a test uses it yet.
//
// (a) A GroupObserver set on the Groups is told of every local join and leave (including the
//     members dropped because their actor stopped), so it can tell other nodes.
// (b) Members that live elsewhere are added and removed under an origin (a node's name); all of
//     one origin's members go at once when that node goes down. They show in members(), get
//     broadcasts, and their changes reach watchers as GroupJoined / GroupLeft, as local ones do.
//     They are not checked for liveness (their node reports their exits) and never show in
//     local_members().
#pragma once

#include <troupe/groups.hpp>

#include <cstddef>
#include <string_view>

namespace troupe::detail {

// Calls come one at a time, in the order the changes happened, outside the groups' lock (an
// observer may call Groups), on whichever thread delivers the groups' events at that moment.
class GroupObserver {
 public:
  virtual ~GroupObserver() = default;
  virtual void local_joined(std::string_view group, const DynamicHandle& member) = 0;
  virtual void local_left(std::string_view group, const DynamicHandle& member) = 0;
};

struct GroupOrigins {
  // Sets (or, with nullptr, clears) the observer, and returns once no call to the old one is
  // under way: the old one may then be destroyed. Not from inside an observer's call (it would
  // wait for itself).
  static void set_observer(Groups& groups, GroupObserver* observer) noexcept;
  // One membership of `member`, from `origin` (not empty). The handle must be valid.
  static void add(Groups& groups, std::string_view origin, std::string_view group, const DynamicHandle& member);
  // Takes back one membership of `member` from `origin`; whether there was one.
  static bool remove(Groups& groups, std::string_view origin, std::string_view group, const DynamicHandle& member);
  // Every membership from `origin`, in every group (its node went down); how many.
  static std::size_t drop_origin(Groups& groups, std::string_view origin);
};

}  // namespace troupe::detail
