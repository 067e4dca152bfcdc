// Process groups: the cluster's extension point (group_origins.hpp). Members of other nodes are
// kept in the same table as local ones, with their node's name as their origin; their changes
// are queued and delivered as local ones are (groups.cpp).
#include "groups_state.hpp"

namespace troupe {

using namespace detail::group_table;

namespace detail {

void GroupOrigins::set_observer(Groups& groups, GroupObserver* observer) noexcept {
  Groups::State& s = *groups.state_;
  std::unique_lock lock(s.mutex);
  s.observer = observer;
  // A deliverer read the old observer before the change and may be calling it: wait until it is
  // done, so that the old observer may be destroyed once this returns.
  s.delivered.wait(lock, [&s] { return !s.delivering; });
}

void GroupOrigins::add(Groups& groups, std::string_view origin, std::string_view group, const DynamicHandle& member) {
  Groups::State& s = *groups.state_;
  std::string from(origin);
  std::string name(group);
  std::unique_lock lock(s.mutex);
  auto it = s.table.try_emplace(name).first;
  try {
    it->second.members.reserve(it->second.members.size() + 1);
    s.outbox.push_back(Event{Event::Kind::joined, false, std::move(name), {member}, it->second.watchers});
  } catch (...) {  // no memory: the table as it was
    s.forget_if_empty(it);
    throw;
  }
  it->second.members.push_back(Member{member, std::move(from)});
  s.deliver(lock);
}

bool GroupOrigins::remove(Groups& groups, std::string_view origin, std::string_view group,
                          const DynamicHandle& member) {
  Groups::State& s = *groups.state_;
  std::unique_lock lock(s.mutex);
  auto it = s.table.find(group);
  if (it == s.table.end()) return false;
  auto& members = it->second.members;
  auto m = std::find_if(members.begin(), members.end(),
                        [&](const Member& e) { return e.origin == origin && e.handle == member; });
  if (m == members.end()) return false;
  // May throw (no memory): nothing has changed yet.
  s.outbox.push_back(Event{Event::Kind::left, false, std::string(group), {member}, it->second.watchers});
  members.erase(m);
  s.forget_if_empty(it);
  s.deliver(lock);
  return true;
}

std::size_t GroupOrigins::drop_origin(Groups& groups, std::string_view origin) {
  Groups::State& s = *groups.state_;
  std::size_t dropped = 0;
  std::unique_lock lock(s.mutex);
  for (auto it = s.table.begin(); it != s.table.end();) {
    auto from = [&](const Member& m) { return m.origin == origin; };
    std::vector<DynamicHandle> who;
    for (const Member& m : it->second.members) {
      if (from(m)) who.push_back(m.handle);
    }
    auto next = std::next(it);
    if (!who.empty()) {
      dropped += who.size();
      // May throw (no memory): this group and those after it keep their members.
      s.outbox.push_back(Event{Event::Kind::left, false, it->first, std::move(who), it->second.watchers});
      std::erase_if(it->second.members, from);
      s.forget_if_empty(it);
    }
    it = next;
  }
  s.deliver(lock);
  return dropped;
}

}  // namespace detail

}  // namespace troupe
