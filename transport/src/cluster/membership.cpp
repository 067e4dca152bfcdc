// The membership actor: the view of the cluster it keeps (members admitted, their downs, the
// subscribers to its events), and the actor itself.
#include "membership_actor.hpp"

#include "../node_core.hpp"
#include "../remote_actor.hpp"

#include <algorithm>

namespace troupe::transport::detail {

void Membership::start(std::uint16_t port) {
  me_.port = port;
  for (const SeedAddress& s : setup_.seeds) {
    const bool own = !s.name.empty() ? s.name == me_.name : s.host == me_.host && s.port == me_.port;
    if (!own) seeds_.push_back(Seed{++next_seed_, s, false});
  }
  if (setup_.etcd) {
    retry_timer_ = self_.send_every(self_.self(), setup_.retry_interval, RetrySeeds{});
    return;  // the seeds come from etcd
  }
  // Also without seeds: the members it declares down are asked again (membership_redial.cpp).
  if (!seeds_.empty() || setup_.redial_lost_for > Duration::zero()) {
    retry_timer_ = self_.send_every(self_.self(), setup_.retry_interval, RetrySeeds{});
  }
  if (seeds_.empty()) {
    become_up();  // the first member: up, alone until others join it
    return;
  }
  ask_seeds();
}

// The replicated state follows the members: names (cluster_names.hpp) and groups.
void Membership::peer_up(const std::string& name, const DynamicHandle& membership) {
  peers_.insert_or_assign(name, membership);
  names_.member_up(membership);
  groups_.member_up(membership);
}

void Membership::peer_gone(const std::string& name) {
  peers_.erase(name);
  names_.member_gone(name);
  groups_.member_gone(name);
}

Result<MemberList> Membership::admit_joiner(const WireMember& joiner) {
  if (me_.state == MemberState::leaving || me_.state == MemberState::removed) {
    return Error{Errc::node_unreachable, "node '" + me_.name + "' is leaving the cluster"};
  }
  if (renewing_) return Error{Errc::node_unreachable, "node '" + me_.name + "' is rejoining the cluster"};
  if (joiner.name == me_.name) {
    return Error{Errc::name_taken, "node name '" + joiner.name + "' is taken: it is the name of the node joined"};
  }
  if (auto it = members_.find(joiner.name);
      it != members_.end() && it->second.member.incarnation != joiner.incarnation) {
    return Error{Errc::name_taken, "node name '" + joiner.name + "' is taken: a live member of the cluster has it"};
  }
  // A run declared down here never comes back as itself: the list says so, for the joiner to
  // settle which of the two rejoins (membership_rejoin.cpp).
  const bool refused = declared_down_here(joiner);
  if (!refused) admit(joiner);
  MemberList list;
  list.members.push_back(me_on_wire());
  for (const auto& [name, r] : members_) {
    list.members.push_back(WireMember{name, r.member.host, r.member.port, r.member.incarnation, r.membership});
  }
  if (refused) list.declared_down = joiner.incarnation;
  return list;
}

// `w` is up here (unless it is already, or another run of its name is). A join exchange with a
// member already up here still sends it this node's names and groups again: it joined again, so
// it may have dropped them (it saw this node down, or, with etcd, this node's key flap).
void Membership::admit(const WireMember& w) {
  if (w.name == me_.name || !w.membership.valid()) return;
  forget_lost(w.name);  // up again: no longer asked as a member declared down
  if (auto it = members_.find(w.name); it != members_.end()) {
    if (it->second.member.incarnation == w.incarnation) {
      names_.member_up(it->second.membership);
      groups_.member_up(it->second.membership);
    }
    return;
  }
  Record r{Member{w.name, w.host, w.port, w.incarnation, MemberState::up}, w.membership, self_.monitor(w.membership)};
  peer_up(w.name, w.membership);
  mark_admitted(w.name, w.incarnation);
  publish(MemberUp{r.member});
  members_.emplace(w.name, std::move(r));
}

void Membership::down(const Down& d) {
  for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
    if (it->second == d.ref) {
      subscribers_.erase(it);
      return;
    }
  }
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->second.monitor != d.ref) continue;
    const std::string& name = it->first;
    forget(it, d.reason.kind == ExitReason::Kind::node_down
                   ? "node '" + name + "' is down: its connection was lost"
                   : "node '" + name + "' stopped its membership (" + d.reason.to_string() + ")");
    return;
  }
}

void Membership::forget(Members::iterator it, std::string why_down) {
  Member gone = std::move(it->second.member);
  members_.erase(it);
  peer_gone(gone.name);
  if (gone.state == MemberState::leaving) {
    gone.state = MemberState::removed;  // it said it was leaving: its going is no failure
    forget_lost(gone.name);             // and it is never dialled again
    publish(MemberLeft{gone});
    return;
  }
  gone.state = MemberState::down;
  downed_.declared_down(gone.name, gone.incarnation, self_.system().now());  // it may only come back as a new run
  remember_lost(gone);  // asked again for a while: a partition that cut only this link may heal
  mark_declared_down(gone.name, gone.incarnation);
  publish(MemberDown{std::move(gone), std::move(why_down)});
}

// On the transport thread: the peer's state in the node's metrics (Peer::declared_down).
void Membership::mark_declared_down(const std::string& name, std::uint64_t incarnation) {
  std::shared_ptr<NodeCore> node = setup_.node.lock();
  if (!node) return;
  node->post([core = node.get(), name, incarnation]() { core->peers().peer(name).declared_down = incarnation; });
}

// On the transport thread: a run declared down and admitted again as itself (once this node has
// forgotten the down: downed_runs.hpp) is up in the metrics again.
void Membership::mark_admitted(const std::string& name, std::uint64_t incarnation) {
  std::shared_ptr<NodeCore> node = setup_.node.lock();
  if (!node) return;
  node->post([core = node.get(), name, incarnation]() {
    Peer& p = core->peers().peer(name);
    if (p.declared_down == incarnation) p.declared_down = 0;
  });
}

void Membership::subscribe(const DynamicHandle& watcher) {
  if (!watcher.valid()) return;
  for (const auto& [w, ref] : subscribers_) {
    if (w == watcher) return;
  }
  watcher.send(ClusterMembers{current_members()});
  subscribers_.emplace_back(watcher, self_.monitor(watcher));
}

void Membership::unsubscribe(const DynamicHandle& watcher) {
  for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
    if (it->first == watcher) {
      self_.demonitor(it->second);
      subscribers_.erase(it);
      return;
    }
  }
}

DynamicHandle spawn_membership(System& system, MembershipSetup setup) {
  return system.spawn<Membership>(std::move(setup));
}

}  // namespace troupe::transport::detail
