// The membership actor (membership.hpp says what it keeps and its protocol), one class in four
// files: membership.cpp (the view: members admitted, their downs, subscribers), membership_join.cpp
// (joining through seeds or etcd, wait_up), membership_redial.cpp (members declared down are asked
// again for a while), membership_rejoin.cpp (a run declared down rejoins as a new incarnation) and
// membership_leave.cpp (a graceful leave). Its names and groups are
// ClusterNames and ClusterGroups. Runs as an actor: one message at a time.
#pragma once

#include "cluster_groups.hpp"
#include "cluster_names.hpp"
#include "downed_runs.hpp"
#include "membership.hpp"
#include "membership_messages.hpp"

#include <troupe/troupe.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace troupe::transport::detail {

class Membership {
 public:
  Membership(Context& self, MembershipSetup setup)
      : self_(self),
        setup_(std::move(setup)),
        me_(setup_.self),
        names_(self, peers_, setup_.log),
        groups_(self.system(), peers_) {
    me_.state = MemberState::joining;
    names_.set_self(me_.name, me_.incarnation);
    groups_.set_self(me_.name);
    if (setup_.etcd) names_.use_etcd(etcd_name_hooks());
  }

  auto behavior() {
    return troupe::behavior(
        [this](const StartMembership& s) { start(s.port); }, [this](RetrySeeds) { ask_seeds(); },
        [this](const EtcdSeen& e) { etcd_seen(e); }, [this](const EtcdGone& e) { etcd_gone(e.name); },
        [this](EtcdRegistered) {
          if (renewing_) return;  // the old run's loop, before it stopped
          names_.etcd_registered();
          joined_ = true;
          up_if_joined();
        },
        // A run declared down rejoins as a new incarnation (membership_rejoin.cpp).
        [this](const DeclaredDown& d) { told_declared_down(d); },
        [this](const EtcdDeclaredDown& d) {
          if (d.incarnation == me_.incarnation) rejoin(d.why, std::nullopt);
        },
        [this](const Renewed& r) { renewed(r.incarnation); }, [this](const EtcdTrouble& t) { not_joined(t.error); },
        [this](const SeedAnswer& a) { seed_answered(a); },
        [this](const JoinCluster& j) -> Result<MemberList> { return admit_joiner(j.joiner); },
        [this](const LeavingCluster& l) {
          forget_lost(l.name);  // it leaves on purpose: not asked again, even if declared down here
          if (Record* r = find(l.name, l.incarnation); r != nullptr && r->member.state == MemberState::up) {
            r->member.state = MemberState::leaving;
            publish(MemberLeaving{r->member});
          }
          return Unit{};
        },
        [this](const LeftCluster& l) { return member_left(l.name, l.incarnation); },
        [this](const Subscribe& s) { subscribe(s.watcher); }, [this](const Unsubscribe& s) { unsubscribe(s.watcher); },
        [this](GetMembers) { return current_members(); }, [this](const WaitUp& w) { return wait_up(w.timeout); },
        [this](const WaitUpExpired& e) { wait_up_expired(e.id); }, [this](const Leave& l) { return leave(l.timeout); },
        [this](const Down& d) {
          if (!names_.down(d)) down(d);
        },
        // Cluster-wide names (cluster_names.hpp).
        [this](const RegisterClusterName& r) { return names_.register_name(r); },
        [this](const UnregisterClusterName& u) { return names_.unregister_name(u.name); },
        [this](const WhereisName& w) { return names_.whereis(w); },
        [this](const AwaitNameExpired& e) { names_.await_expired(e.id); },
        [this](const ClaimName& c) -> Result<Unit> {
          if (renewing_) return Error{Errc::node_unreachable, "node '" + me_.name + "' is rejoining the cluster"};
          return names_.claim(c.entry);
        },
        // While renewing, what the old run's members sent is dropped with them.
        [this](const NamesAdded& a) {
          if (!renewing_) names_.added(a.entries);
        },
        [this](const NameRemoved& r) { names_.removed(r); }, [this](const AskName& a) { return names_.ask(a.name); },
        [this](const EtcdNameClaimed& c) { names_.etcd_claimed(c); },
        // Process groups across the cluster (cluster_groups.hpp).
        [this](const LocalGroupChange& c) { groups_.local_change(c.group); },
        [this](const GroupChanged& c) {
          if (!renewing_) groups_.changed(c);
        },
        [this](const GroupsOf& g) {
          if (!renewing_) groups_.replace(g);
        },
        [this](StopMembership) {
          retry_timer_.cancel();
          self_.quit();
        });
  }

 private:
  struct Record {
    Member member;
    DynamicHandle membership;
    MonitorRef monitor;
  };
  struct Seed {
    std::uint64_t id;  // stable: etcd adds and drops seeds while answers are on their way
    SeedAddress address;
    bool asking = false;  // an answer (SeedAnswer, then the join's) is on its way
    bool once = false;    // the member a rejoin goes through: dropped once it answered
    // A member declared down here, asked again until `lost_until` (membership_redial.cpp): at the
    // address the transport has for it, dropped once it is up again or leaves.
    bool lost = false;
    runtime::TimerService::Clock::time_point lost_until{};
  };
  struct Waiter {
    std::uint64_t id;
    Promise<Unit> promise;
    Timer expiry;
  };

  void start(std::uint16_t port);

  WireMember me_on_wire() const { return WireMember{me_.name, me_.host, me_.port, me_.incarnation, self_.self()}; }

  Seed* find_seed(std::uint64_t id) {
    auto it = std::find_if(seeds_.begin(), seeds_.end(), [id](const Seed& s) { return s.id == id; });
    return it != seeds_.end() ? &*it : nullptr;
  }

  Record* find(const std::string& name, std::uint64_t incarnation) {
    auto it = members_.find(name);
    return it != members_.end() && it->second.member.incarnation == incarnation ? &it->second : nullptr;
  }

  template <class Event>
  void publish(const Event& event) {
    for (const auto& [watcher, ref] : subscribers_) watcher.send(Event{event});
  }

  std::vector<Member> current_members() const {
    std::vector<Member> all{me_};
    for (const auto& [name, r] : members_) all.push_back(r.member);
    return all;
  }

  // Seeds: each one whose node is not up here (and not asked already) is asked again.
  void ask_seeds();

  // Members declared down here, asked again as seeds for a while (membership_redial.cpp).
  // `gone` was declared down: asked again until SeedDiscovery::redial_lost_for has passed.
  void remember_lost(const Member& gone);
  // `name` is up again, or leaves on purpose: no longer asked as a lost member.
  void forget_lost(const std::string& name);
  // Drops the lost members whose time is up.
  void drop_expired_lost();

  void seed_answered(const SeedAnswer& a);

  // Joining through `target`: its answer admits it and lists the members to ask next.
  // `done` runs first with the answerer's name ("" if it failed). Not a template: ask() calls
  // itself with another lambda, which would instantiate without end.
  void ask(const DynamicHandle& target, std::function<void(const std::string&)> done);

  // Up once a seed admitted this node and every member it learnt of has answered (admitted it,
  // or failed): wait_up() then returns with this node connected to all the members it knows.
  void up_if_joined();

  // etcd lists member `e`: a named seed, asked now (and again while it is not up here).
  void etcd_seen(const EtcdSeen& e);

  // Member `name`'s key went from etcd: it left, or its lease expired. Down for every node at once,
  // even one still connected to it.
  void etcd_gone(const std::string& name);

  // With etcd, a name's key there decides who holds it (EtcdMembership::claim_name), on the
  // transport thread; its answer comes back as a message.
  ClusterNames::EtcdHooks etcd_name_hooks();

  // The replicated state follows the members: names (cluster_names.hpp) and groups.
  void peer_up(const std::string& name, const DynamicHandle& membership);
  void peer_gone(const std::string& name);

  // A join was refused, or no seed could be reached: why, for wait_up and the log.
  void not_joined(const Error& why);

  // Rejoining as a new incarnation (membership_rejoin.cpp). A member's run that this node
  // declared down (MemberDown; not one that left) is remembered by name, the latest only, for
  // SeedDiscovery::remember_down_for.
  bool declared_down_here(const WireMember& m) const {
    return downed_.refuses(m.name, m.incarnation, self_.system().now());
  }
  // `other` answered this run's join with declared_down: this run, or `other`'s, rejoins.
  void refused_as_down(const WireMember& other, std::size_t other_members);
  // Tells `other` that this node declared its run down (DeclaredDown).
  void tell_declared_down(const WireMember& other);
  void told_declared_down(const DeclaredDown& d);
  // This run was declared down (`why`): its view ends, and it rejoins as a new incarnation,
  // through its seeds and `through`.
  void rejoin(const std::string& why, std::optional<SeedAddress> through);
  // The transport is run `incarnation` now: the join starts over.
  void renewed(std::uint64_t incarnation);
  // The answer to a request this node sent as an earlier run, or while renewing: dropped.
  bool stale(std::uint64_t run) const { return renewing_ || run != me_.incarnation; }

  void become_up();

  Result<MemberList> admit_joiner(const WireMember& joiner);

  // `w` is up here (unless it is already, or another run of its name is); see membership.cpp.
  void admit(const WireMember& w);

  // Answered once the transport knows, so the leaver closes its connections only after that.
  Promise<Unit> member_left(const std::string& name, std::uint64_t incarnation);

  // On the transport thread: the connections to `names` closing next are leaves, not failures
  // (Liveness::node_down); then `then` runs.
  void mark_left(std::vector<std::string> names, std::function<void()> then);
  // On the transport thread: run `incarnation` of `name` is declared down (the node's metrics).
  void mark_declared_down(const std::string& name, std::uint64_t incarnation);
  // On the transport thread: run `incarnation` of `name`, admitted, is no longer declared down.
  void mark_admitted(const std::string& name, std::uint64_t incarnation);

  void down(const Down& d);
  // Member `it` is gone (its monitor already fired or taken back): forgotten with its names and
  // groups; MemberLeft if it had said it was leaving, else MemberDown saying `why_down`.
  using Members = std::map<std::string, Record, std::less<>>;
  void forget(Members::iterator it, std::string why_down);

  void subscribe(const DynamicHandle& watcher);

  void unsubscribe(const DynamicHandle& watcher);

  Promise<Unit> wait_up(Duration timeout);

  void wait_up_expired(std::uint64_t id);

  // A graceful leave: LeavingCluster to every member; once all answered, LeftCluster to each;
  // once all answered that (each after its transport knows), this node is removed.
  Promise<Unit> leave(Duration timeout);

  void send_left();

  void finish_leave();

  Context& self_;
  MembershipSetup setup_;
  Member me_;
  std::vector<Seed> seeds_;
  std::uint64_t next_seed_ = 0;
  Members members_;                            // the others, up or leaving
  std::set<std::string, std::less<>> asking_;  // members asked to admit this node, not answered yet
  std::vector<std::pair<DynamicHandle, MonitorRef>> subscribers_;
  std::vector<Waiter> waiters_;  // wait_up() calls while joining
  std::uint64_t next_waiter_ = 0;
  Error join_error_{Errc::timeout, ""};  // why the last join failed (a name clash wins over the rest)
  std::vector<Promise<Unit>> leave_promises_;
  std::size_t leave_answers_ = 0;
  Duration leave_timeout_{};
  bool joined_ = false;  // a seed (or a member it named) admitted this node
  bool renewing_ = false;  // rejoin() until renewed(): the transport is not the new run yet
  DownedRuns downed_{setup_.remember_down_for};  // after setup_
  Timer retry_timer_;
  std::map<std::string, DynamicHandle, std::less<>> peers_;  // the members up but this node: their membership actors
  ClusterNames names_;                                       // after peers_: it refers to it
  ClusterGroups groups_;                                     // likewise
};

}  // namespace troupe::transport::detail
