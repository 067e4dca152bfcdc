#include "membership.hpp"

#include "../node_core.hpp"
#include "../remote_actor.hpp"
#include "cluster_groups.hpp"
#include "cluster_names.hpp"
#include "membership_messages.hpp"
#include "seed_resolver.hpp"

#include <troupe/troupe.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

namespace troupe::transport::detail {
namespace {

class Membership {
 public:
  Membership(Context& self, MembershipSetup setup)
      : self_(self),
        setup_(std::move(setup)),
        me_(setup_.self),
        names_(self, peers_, [this](const std::string& line) { log(line); }),
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
          joined_ = true;
          up_if_joined();
        },
        [this](const EtcdTrouble& t) { not_joined(t.error); }, [this](const SeedAnswer& a) { seed_answered(a); },
        [this](const JoinCluster& j) -> Result<MemberList> { return admit_joiner(j.joiner); },
        [this](const LeavingCluster& l) {
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
        [this](const ClaimName& c) { return names_.claim(c.entry); },
        [this](const NamesAdded& a) { names_.added(a.entries); }, [this](const NameRemoved& r) { names_.removed(r); },
        [this](const AskName& a) { return names_.ask(a.name); },
        [this](const EtcdNameClaimed& c) { names_.etcd_claimed(c); },
        // Process groups across the cluster (cluster_groups.hpp).
        [this](const LocalGroupChange& c) { groups_.local_change(c.group); },
        [this](const GroupChanged& c) { groups_.changed(c); }, [this](const GroupsOf& g) { groups_.replace(g); },
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
    SeedAddress address;
    bool asking = false;  // an answer (SeedAnswer, then the join's) is on its way
  };
  struct Waiter {
    std::uint64_t id;
    Promise<Unit> promise;
    Timer expiry;
  };

  void start(std::uint16_t port) {
    me_.port = port;
    for (const SeedAddress& s : setup_.seeds) {
      const bool own = !s.name.empty() ? s.name == me_.name : s.host == me_.host && s.port == me_.port;
      if (!own) seeds_.push_back(Seed{s, false});
    }
    if (setup_.etcd) {
      retry_timer_ = self_.send_every(self_.self(), setup_.retry_interval, RetrySeeds{});
      return;  // the seeds come from etcd
    }
    if (seeds_.empty()) {
      become_up();  // the first member: up, alone until others join it
      return;
    }
    retry_timer_ = self_.send_every(self_.self(), setup_.retry_interval, RetrySeeds{});
    ask_seeds();
  }

  WireMember me_on_wire() const { return WireMember{me_.name, me_.host, me_.port, me_.incarnation, self_.self()}; }

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
  void ask_seeds() {
    if (me_.state == MemberState::leaving || me_.state == MemberState::removed) return;
    std::shared_ptr<NodeCore> node = setup_.node.lock();
    if (!node) return;
    for (std::size_t i = 0; i < seeds_.size(); ++i) {
      Seed& seed = seeds_[i];
      if (seed.asking || (!seed.address.name.empty() && members_.contains(seed.address.name))) continue;
      seed.asking = true;
      // On the transport thread: the name of the node at the address, then a proxy of its
      // membership actor, sent back here.
      node->post([core = node.get(), address = seed.address, i, me = self_.self()]() {
        auto answer = [core, i, me](Result<std::string> name) {
          SeedAnswer a;
          a.index = i;
          if (name) {
            a.membership = DynamicHandle::share(core->proxies().proxy(core->peers().peer(*name), kMembershipId));
          } else {
            a.error = name.error();
          }
          me.send(std::move(a));
        };
        if (address.name.empty()) {
          core->seeds().resolve(address.host, address.port, std::move(answer));
        } else {
          Peer& p = core->peers().peer(address.name);
          if (!p.address) p.address = std::make_pair(address.host, address.port);
          answer(address.name);
        }
      });
    }
  }

  void seed_answered(const SeedAnswer& a) {
    if (a.index >= seeds_.size()) return;
    Seed& seed = seeds_[a.index];
    if (!a.membership.valid()) {
      seed.asking = false;
      not_joined(a.error);
      return;
    }
    ask(a.membership, [this, index = a.index](const std::string& name) {
      seeds_[index].asking = false;
      if (!name.empty()) seeds_[index].address.name = name;  // known from now on
    });
  }

  // Joining through `target`: its answer admits it and lists the members to ask next.
  // `done` runs first with the answerer's name ("" if it failed). Not a template: ask() calls
  // itself with another lambda, which would instantiate without end.
  void ask(const DynamicHandle& target, std::function<void(const std::string&)> done) {
    JoinCluster join{me_on_wire()};  // built before the request, not inside it (see g++ 12 notes)
    self_.request(target, std::move(join), setup_.retry_interval * 4)
        .then([this, done = std::move(done)](Result<MemberList> list) mutable {
          if (!list || list->members.empty()) {
            done(std::string());
            if (!list) not_joined(list.error());
            up_if_joined();
            return;
          }
          done(list->members.front().name);
          if (me_.state == MemberState::leaving || me_.state == MemberState::removed) return;
          admit(list->members.front());
          joined_ = true;
          for (std::size_t i = 1; i < list->members.size(); ++i) {
            const WireMember& w = list->members[i];
            if (w.name == me_.name || members_.contains(w.name) || !asking_.insert(w.name).second) continue;
            ask(w.membership, [this, name = w.name](const std::string&) { asking_.erase(name); });
          }
          up_if_joined();
        });
  }

  // Up once a seed admitted this node and every member it learnt of has answered (admitted it,
  // or failed): wait_up() then returns with this node connected to all the members it knows.
  void up_if_joined() {
    if (me_.state != MemberState::joining || !joined_ || !asking_.empty()) return;
    // With etcd, the members it listed at registration have answered too (or failed to).
    if (setup_.etcd && std::any_of(seeds_.begin(), seeds_.end(), [](const Seed& s) { return s.asking; })) return;
    become_up();
  }

  // etcd lists member `e`: a named seed, asked now (and again while it is not up here).
  void etcd_seen(const EtcdSeen& e) {
    if (e.name == me_.name) return;
    auto it = std::find_if(seeds_.begin(), seeds_.end(), [&e](const Seed& s) { return s.address.name == e.name; });
    if (it == seeds_.end()) {
      seeds_.push_back(Seed{SeedAddress{e.name, e.host, e.port}, false});
    } else if (!it->asking) {
      it->address = SeedAddress{e.name, e.host, e.port};
    }
    ask_seeds();
  }

  // Member `name`'s key went from etcd: it left, or its lease expired. Down for every node at once,
  // even one still connected to it.
  void etcd_gone(const std::string& name) {
    std::erase_if(seeds_, [&name](const Seed& s) { return s.address.name == name && !s.asking; });
    auto it = members_.find(name);
    if (it == members_.end()) return;
    self_.demonitor(it->second.monitor);
    Member gone = std::move(it->second.member);
    members_.erase(it);
    peer_gone(name);
    if (gone.state == MemberState::leaving) {
      gone.state = MemberState::removed;
      publish(MemberLeft{gone});
      return;
    }
    gone.state = MemberState::down;
    publish(MemberDown{std::move(gone), "node '" + name + "' is down: its key in etcd went (its lease expired)"});
  }

  // With etcd, a name's key there decides who holds it (EtcdMembership::claim_name), on the
  // transport thread; its answer comes back as a message.
  ClusterNames::EtcdHooks etcd_name_hooks() {
    std::weak_ptr<NodeCore> weak = setup_.node;
    DynamicHandle me = self_.self();
    auto claim = [weak, me](const std::string& name, std::uint64_t id) {
      std::shared_ptr<NodeCore> node = weak.lock();
      if (!node) {
        me.send(EtcdNameClaimed{id, Error{Errc::node_unreachable, "the node has stopped"}});
        return;
      }
      node->post([core = node.get(), name, id, me]() {
        auto answer = [id, me](Result<bool> created) { me.send(EtcdNameClaimed{id, std::move(created)}); };
        if (EtcdMembership* etcd = core->etcd()) return etcd->claim_name(name, answer);
        answer(Error{Errc::node_unreachable, "etcd is not in use"});
      });
    };
    auto release = [weak](const std::string& name) {
      if (std::shared_ptr<NodeCore> node = weak.lock()) {
        node->post([core = node.get(), name]() {
          if (EtcdMembership* etcd = core->etcd()) etcd->release_name(name);
        });
      }
    };
    return ClusterNames::EtcdHooks{claim, release};
  }

  // The replicated state follows the members: names (cluster_names.hpp) and groups.
  void peer_up(const std::string& name, const DynamicHandle& membership) {
    peers_.insert_or_assign(name, membership);
    names_.member_up(membership);
    groups_.member_up(membership);
  }
  void peer_gone(const std::string& name) {
    peers_.erase(name);
    names_.member_gone(name);
    groups_.member_gone(name);
  }

  // A join was refused, or no seed could be reached: why, for wait_up and the log.
  void not_joined(const Error& why) {
    if (why.code == Errc::name_taken || join_error_.code != Errc::name_taken) join_error_ = why;
    if (why.code == Errc::name_taken) log("cannot join the cluster: " + why.what);
  }

  void become_up() {
    me_.state = MemberState::up;
    publish(MemberUp{me_});
    for (Waiter& w : waiters_) {
      w.expiry.cancel();
      w.promise.deliver(Unit{});
    }
    waiters_.clear();
  }

  Result<MemberList> admit_joiner(const WireMember& joiner) {
    if (me_.state == MemberState::leaving || me_.state == MemberState::removed) {
      return Error{Errc::node_unreachable, "node '" + me_.name + "' is leaving the cluster"};
    }
    if (joiner.name == me_.name) {
      return Error{Errc::name_taken, "node name '" + joiner.name + "' is taken: it is the name of the node joined"};
    }
    if (auto it = members_.find(joiner.name);
        it != members_.end() && it->second.member.incarnation != joiner.incarnation) {
      return Error{Errc::name_taken, "node name '" + joiner.name + "' is taken: a live member of the cluster has it"};
    }
    admit(joiner);
    MemberList list;
    list.members.push_back(me_on_wire());
    for (const auto& [name, r] : members_) {
      list.members.push_back(WireMember{name, r.member.host, r.member.port, r.member.incarnation, r.membership});
    }
    return list;
  }

  // `w` is up here (unless it is already, or another run of its name is).
  void admit(const WireMember& w) {
    if (w.name == me_.name || members_.contains(w.name) || !w.membership.valid()) return;
    Record r{Member{w.name, w.host, w.port, w.incarnation, MemberState::up}, w.membership, self_.monitor(w.membership)};
    peer_up(w.name, w.membership);
    publish(MemberUp{r.member});
    members_.emplace(w.name, std::move(r));
  }

  // Answered once the transport knows, so the leaver closes its connections only after that.
  Promise<Unit> member_left(const std::string& name, std::uint64_t incarnation) {
    Promise<Unit> promise = self_.promise<Unit>();
    if (Record* r = find(name, incarnation)) {
      self_.demonitor(r->monitor);
      r->member.state = MemberState::removed;
      publish(MemberLeft{r->member});
      members_.erase(name);
      peer_gone(name);
    }
    mark_left(name, promise);
    return promise;
  }

  // On the transport thread: node `name`'s connection closing next is a leave, not a failure
  // (Liveness::node_down); then `promise` is answered.
  void mark_left(const std::string& name, Promise<Unit> promise) {
    std::shared_ptr<NodeCore> node = setup_.node.lock();
    if (!node) return promise.deliver(Unit{});
    node->post([core = node.get(), name, promise]() mutable {
      core->peers().peer(name).left = true;
      promise.deliver(Unit{});
    });
  }

  void down(const Down& d) {
    for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
      if (it->second == d.ref) {
        subscribers_.erase(it);
        return;
      }
    }
    for (auto it = members_.begin(); it != members_.end(); ++it) {
      if (it->second.monitor != d.ref) continue;
      Member gone = std::move(it->second.member);
      members_.erase(it);
      peer_gone(gone.name);
      if (gone.state == MemberState::leaving) {
        gone.state = MemberState::removed;  // it said it was leaving: its going is no failure
        publish(MemberLeft{gone});
        return;
      }
      gone.state = MemberState::down;
      std::string why = d.reason.kind == ExitReason::Kind::node_down
                            ? "node '" + gone.name + "' is down: its connection was lost"
                            : "node '" + gone.name + "' stopped its membership (" + d.reason.to_string() + ")";
      publish(MemberDown{std::move(gone), std::move(why)});
      return;
    }
  }

  void subscribe(const DynamicHandle& watcher) {
    if (!watcher.valid()) return;
    for (const auto& [w, ref] : subscribers_) {
      if (w == watcher) return;
    }
    watcher.send(ClusterMembers{current_members()});
    subscribers_.emplace_back(watcher, self_.monitor(watcher));
  }

  void unsubscribe(const DynamicHandle& watcher) {
    for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
      if (it->first == watcher) {
        self_.demonitor(it->second);
        subscribers_.erase(it);
        return;
      }
    }
  }

  Promise<Unit> wait_up(Duration timeout) {
    Promise<Unit> promise = self_.promise<Unit>();
    if (me_.state != MemberState::joining) {
      if (me_.state == MemberState::up) {
        promise.deliver(Unit{});
      } else {
        promise.fail(Error{Errc::node_unreachable, "node '" + me_.name + "' left the cluster"});
      }
      return promise;
    }
    const std::uint64_t id = ++next_waiter_;
    waiters_.push_back(Waiter{id, promise, self_.send_after(self_.self(), timeout, WaitUpExpired{id})});
    return promise;
  }

  void wait_up_expired(std::uint64_t id) {
    auto it = std::find_if(waiters_.begin(), waiters_.end(), [id](const Waiter& w) { return w.id == id; });
    if (it == waiters_.end()) return;
    if (join_error_.code == Errc::name_taken) {
      it->promise.fail(join_error_);
    } else {
      std::string why = "node '" + me_.name + "' has not joined the cluster yet";
      if (!join_error_.what.empty()) why += ": " + join_error_.what;
      it->promise.fail(Error{Errc::timeout, std::move(why)});
    }
    waiters_.erase(it);
  }

  // A graceful leave: LeavingCluster to every member; once all answered, LeftCluster to each;
  // once all answered that (each after its transport knows), this node is removed.
  Promise<Unit> leave(Duration timeout) {
    Promise<Unit> promise = self_.promise<Unit>();
    if (me_.state == MemberState::leaving || me_.state == MemberState::removed) {
      leave_promises_.push_back(promise);
      if (me_.state == MemberState::removed) finish_leave();
      return promise;
    }
    retry_timer_.cancel();
    me_.state = MemberState::leaving;
    publish(MemberLeaving{me_});
    leave_promises_.push_back(promise);
    leave_timeout_ = timeout;
    leave_answers_ = members_.size();
    if (leave_answers_ == 0) return send_left(), promise;
    for (auto& [name, r] : members_) {
      LeavingCluster leaving{me_.name, me_.incarnation};
      self_.request(r.membership, std::move(leaving), timeout).then([this](Result<Unit>) {
        if (--leave_answers_ == 0) send_left();  // an error answers too: a member gone is no obstacle
      });
    }
    return promise;
  }

  void send_left() {
    std::vector<std::string> names;
    leave_answers_ = members_.size();
    for (auto& [name, r] : members_) {
      self_.demonitor(r.monitor);
      names.push_back(name);
      LeftCluster left{me_.name, me_.incarnation};
      self_.request(r.membership, std::move(left), leave_timeout_).then([this](Result<Unit>) {
        if (--leave_answers_ == 0) finish_leave();
      });
    }
    // This node's side: its connections to them closing is its own leave, not their failure.
    if (std::shared_ptr<NodeCore> node = setup_.node.lock()) {
      node->post([core = node.get(), names = std::move(names)]() {
        for (const std::string& name : names) core->peers().peer(name).left = true;
      });
    }
    if (leave_answers_ == 0) finish_leave();
  }

  void finish_leave() {
    if (me_.state != MemberState::removed) {
      me_.state = MemberState::removed;
      for (const auto& [name, r] : members_) peer_gone(name);
      members_.clear();
      publish(MemberLeft{me_});
    }
    std::vector<Promise<Unit>> promises = std::move(leave_promises_);
    leave_promises_.clear();
    auto answer = [promises]() mutable {
      for (Promise<Unit>& p : promises) p.deliver(Unit{});
    };
    std::shared_ptr<NodeCore> node = setup_.node.lock();
    if (!setup_.etcd || !node) return answer();
    // With etcd, the leave ends with this node's key deleted, so no one sees it expire later.
    node->post([core = node.get(), answer]() mutable {
      if (EtcdMembership* etcd = core->etcd()) return etcd->leave(answer);
      answer();
    });
  }

  void log(const std::string& line) {
    if (std::shared_ptr<NodeCore> node = setup_.node.lock()) node->log().line(line);
  }

  Context& self_;
  MembershipSetup setup_;
  Member me_;
  std::vector<Seed> seeds_;
  std::map<std::string, Record, std::less<>> members_;  // the others, up or leaving
  std::set<std::string, std::less<>> asking_;           // members asked to admit this node, not answered yet
  std::vector<std::pair<DynamicHandle, MonitorRef>> subscribers_;
  std::vector<Waiter> waiters_;  // wait_up() calls while joining
  std::uint64_t next_waiter_ = 0;
  Error join_error_{Errc::timeout, ""};  // why the last join failed (a name clash wins over the rest)
  std::vector<Promise<Unit>> leave_promises_;
  std::size_t leave_answers_ = 0;
  Duration leave_timeout_{};
  bool joined_ = false;  // a seed (or a member it named) admitted this node
  Timer retry_timer_;
  std::map<std::string, DynamicHandle, std::less<>> peers_;  // the members up but this node: their membership actors
  ClusterNames names_;                                       // after peers_: it refers to it
  ClusterGroups groups_;                                     // likewise
};

}  // namespace

DynamicHandle spawn_membership(System& system, MembershipSetup setup) {
  return system.spawn<Membership>(std::move(setup));
}

}  // namespace troupe::transport::detail
