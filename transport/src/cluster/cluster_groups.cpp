#include "cluster_groups.hpp"

#include <algorithm>

namespace troupe::transport::detail {

using troupe::detail::GroupOrigins;

void ClusterGroups::local_change(const std::string& group) {
  GroupEntry entry{group, system_.groups().local_members(group)};
  for (const auto& [name, membership] : peers_) membership.send(GroupChanged{me_, entry});
}

void ClusterGroups::member_up(const DynamicHandle& membership) {
  GroupsOf all{me_, {}};
  Groups& groups = system_.groups();
  for (const std::string& group : groups.groups()) {
    std::vector<DynamicHandle> local = groups.local_members(group);
    if (!local.empty()) all.entries.push_back(GroupEntry{group, std::move(local)});
  }
  membership.send(std::move(all));
}

void ClusterGroups::member_gone(const std::string& name) {
  GroupOrigins::drop_origin(system_.groups(), name);
  remote_.erase(name);
}

void ClusterGroups::replace(const GroupsOf& g) {
  std::map<std::string, std::vector<DynamicHandle>>& had = remote_[g.origin];
  std::vector<std::string> gone;  // groups it no longer has members in
  for (const auto& entry : had) {
    const std::string& group = entry.first;  // not a structured binding: clang before 16 cannot capture one
    const bool listed =
        std::any_of(g.entries.begin(), g.entries.end(), [&group](const GroupEntry& e) { return e.group == group; });
    if (!listed) gone.push_back(group);
  }
  for (const std::string& group : gone) apply(g.origin, GroupEntry{group, {}});
  for (const GroupEntry& e : g.entries) apply(g.origin, e);
}

void ClusterGroups::apply(const std::string& origin, const GroupEntry& entry) {
  std::vector<DynamicHandle>& had = remote_[origin][entry.group];
  std::vector<DynamicHandle> to_add;
  std::vector<DynamicHandle> left = had;  // what is not matched by the new list goes
  for (const DynamicHandle& m : entry.members) {
    if (!m.valid()) continue;
    if (auto it = std::find(left.begin(), left.end(), m); it != left.end()) {
      left.erase(it);  // one join each: an actor that joined twice is listed twice
    } else {
      to_add.push_back(m);
    }
  }
  Groups& groups = system_.groups();
  for (const DynamicHandle& m : left) GroupOrigins::remove(groups, origin, entry.group, m);
  for (const DynamicHandle& m : to_add) GroupOrigins::add(groups, origin, entry.group, m);
  had.clear();
  for (const DynamicHandle& m : entry.members) {
    if (m.valid()) had.push_back(m);
  }
  if (had.empty()) remote_[origin].erase(entry.group);
}

}  // namespace troupe::transport::detail
