// A run declared down rejoins as a new incarnation.
//
// Once a member has declared a node's run down (MemberDown: its connection was lost, or its key in
// etcd went), that run never comes back as itself: whatever of it the member still held (handles to
// its actors, links and monitors, its names and group members) went at the MemberDown, and nothing
// of its old life may be taken for the node that returns. So the node rejoins as a new incarnation,
// as a restarted node would, though its process and its actors keep running:
//   - it learns it was declared down: a member it asks to join answers that it declared this run
//     down (MemberList::declared_down), or tells it so (DeclaredDown); with etcd, its own key went
//     (EtcdDeclaredDown);
//   - its view of the cluster ends: its subscribers get MemberDown for itself (the old run) and
//     for every member it had, whose actors' handles die as its connections close;
//   - the transport becomes the new run (NodeCore::renew_incarnation): every connection closes,
//     so every peer, the ones that had not declared it down too, sees the old run go (node-down:
//     handles to its actors dead, monitors and links fired; MemberDown where still up);
//   - it joins again, through its seeds and the member it met: MemberUp for the new run on every
//     member and on itself. Its actors' names and group memberships are told again as the new
//     run's (cluster_names.hpp; groups: its System's groups are the truth).
//
// Which side rejoins. During a partition each side declares the other down; when they meet again
// (the asker's join answered with declared_down, and the asker had declared the answerer down
// too), the side that sees fewer members up (itself included) rejoins, at a tie the one whose
// name sorts last, as a majority keeps its members. The asker decides, and tells the answerer if
// it is the one. A run declared down by a member that it never saw down itself (with etcd: its
// lease expired while its connections stayed up) is the one that rejoins.
#include "membership_actor.hpp"

#include "../node_core.hpp"

namespace troupe::transport::detail {

void Membership::refused_as_down(const WireMember& other, std::size_t other_members) {
  const std::size_t mine = members_.size() + 1;
  const bool other_yields =
      declared_down_here(other) && (other_members < mine || (other_members == mine && other.name > me_.name));
  if (other_yields) return tell_declared_down(other);
  rejoin("node '" + other.name + "' declared it down", SeedAddress{other.name, other.host, other.port});
}

void Membership::tell_declared_down(const WireMember& other) {
  if (other.membership.valid()) other.membership.send(DeclaredDown{me_on_wire(), other.incarnation});
}

void Membership::told_declared_down(const DeclaredDown& d) {
  if (d.incarnation != me_.incarnation) return;  // an earlier run's news
  rejoin("node '" + d.by.name + "' declared it down", SeedAddress{d.by.name, d.by.host, d.by.port});
}

void Membership::rejoin(const std::string& why, std::optional<SeedAddress> through) {
  if (renewing_ || me_.state == MemberState::leaving || me_.state == MemberState::removed) return;
  std::shared_ptr<NodeCore> node = setup_.node.lock();
  if (!node) return;
  if (setup_.log.enabled(LogLevel::warning)) {
    setup_.log.log(
        {.level = LogLevel::warning,
         .name = "rejoining",
         .message = "this node's run was declared down (" + why + "): it rejoins the cluster as a new incarnation",
         .reason = why});
  }
  renewing_ = true;
  Member old = me_;
  old.state = MemberState::down;
  publish(MemberDown{old, "node '" + me_.name + "' was declared down: " + why});
  const std::string ended = "node '" + me_.name + "' was declared down and rejoins as a new incarnation";
  for (auto& [name, r] : members_) {
    self_.demonitor(r.monitor);
    peer_gone(name);
    r.member.state = MemberState::down;
    publish(MemberDown{r.member, ended});
  }
  members_.clear();
  downed_.clear();  // the new run has declared no one down
  asking_.clear();
  joined_ = false;
  me_.state = MemberState::joining;
  if (setup_.etcd) {
    seeds_.clear();  // the new run's registration lists the members, and it asks them after that
  } else {
    // Answers on their way to the old run's asks are for ids no seed has any more. Members the
    // old run had declared down are still asked (membership_redial.cpp): they may be split off.
    for (Seed& s : seeds_) {
      s.id = ++next_seed_;
      s.asking = false;
    }
  }
  if (through && !setup_.etcd) {
    const bool known =
        std::any_of(seeds_.begin(), seeds_.end(), [&](const Seed& s) { return s.address.name == through->name; });
    if (!known) seeds_.push_back(Seed{++next_seed_, *through, false, true});
  }
  node->post([core = node.get(), me = self_.self(), ended]() { me.send(Renewed{core->renew_incarnation(ended)}); });
}

void Membership::renewed(std::uint64_t incarnation) {
  renewing_ = false;
  me_.incarnation = incarnation;
  names_.rejoin(incarnation);
  if (me_.state != MemberState::joining) return;  // it left meanwhile
  // A node with no seeds of its own is up at once, as the first member is; it asks the member it
  // met (and the members it had declared down) all the same, and so joins that member's side.
  const bool seeded = std::any_of(seeds_.begin(), seeds_.end(), [](const Seed& s) { return !s.once && !s.lost; });
  if (!setup_.etcd && !seeded) become_up();
  ask_seeds();
}

}  // namespace troupe::transport::detail
