// Process groups across the cluster (<troupe/groups.hpp>, Erlang's pg): each node's membership
// actor tells every member which of its own actors are in a group whenever that changes, and
// keeps what the others tell it in its System's groups under their node's name (troupe::detail::
// GroupOrigins), so members(), broadcast() and group monitors cover the whole cluster.
//
//   local change  the System's groups call GroupForwarder (any thread, in order), which tells the
//                 membership actor the group's name; it reads the group's local members then (the
//                 truth at that moment) and sends them to every member (GroupChanged)
//   member up     it is sent all of this node's groups with local members (GroupsOf)
//   member gone   its members are dropped from every group, here (GroupOrigins::drop_origin)
// What a node sends is a group's whole local membership, not a change: the receiver applies the
// difference from what it had of that node. So a message that repeats what an earlier one said
// (a change already in a GroupsOf) changes nothing, and each member ends with what the node's
// last message said, which is its membership when it sent it (one sender, FIFO).
#pragma once

#include "membership_messages.hpp"

#include <troupe/group_origins.hpp>
#include <troupe/troupe.hpp>

#include <map>
#include <string>
#include <vector>

namespace troupe::transport::detail {

// Installed on the System's groups while the node runs: tells the membership actor which group
// changed, in order.
class GroupForwarder final : public troupe::detail::GroupObserver {
 public:
  explicit GroupForwarder(DynamicHandle membership) : membership_(std::move(membership)) {}
  void local_joined(std::string_view group, const DynamicHandle&) override {
    membership_.send(LocalGroupChange{std::string(group)});
  }
  void local_left(std::string_view group, const DynamicHandle&) override {
    membership_.send(LocalGroupChange{std::string(group)});
  }

 private:
  const DynamicHandle membership_;
};

class ClusterGroups {
 public:
  using Peers = std::map<std::string, DynamicHandle, std::less<>>;
  ClusterGroups(System& system, const Peers& peers) : system_(system), peers_(peers) {}

  void set_self(std::string me) { me_ = std::move(me); }
  void local_change(const std::string& group);
  void member_up(const DynamicHandle& membership);
  void member_gone(const std::string& name);
  void changed(const GroupChanged& c) { apply(c.origin, c.entry); }
  void replace(const GroupsOf& g);

 private:
  // Node `origin`'s members of the group are now entry.members: the System's groups get the
  // difference from what they had of it.
  void apply(const std::string& origin, const GroupEntry& entry);

  System& system_;
  const Peers& peers_;
  std::string me_;
  // What this System's groups hold of each other node: origin -> group -> members.
  std::map<std::string, std::map<std::string, std::vector<DynamicHandle>>, std::less<>> remote_;
};

}  // namespace troupe::transport::detail
