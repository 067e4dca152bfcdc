// Joining: through seeds, or the members etcd lists; wait_up.
#include "membership_actor.hpp"

#include "../node_core.hpp"
#include "../remote_actor.hpp"

#include <algorithm>

namespace troupe::transport::detail {

// Seeds: each one whose node is not up here (and not asked already) is asked again, and so is
// each member declared down here whose time to be asked is not up (membership_redial.cpp).
void Membership::ask_seeds() {
  if (me_.state == MemberState::leaving || me_.state == MemberState::removed || renewing_) return;
  std::shared_ptr<NodeCore> node = setup_.node.lock();
  if (!node) return;
  drop_expired_lost();
  for (Seed& seed : seeds_) {
    if (seed.asking || (!seed.address.name.empty() && members_.contains(seed.address.name))) continue;
    seed.asking = true;
    // On the transport thread: the name of the node at the address, then a proxy of its
    // membership actor, sent back here.
    node->post([core = node.get(), address = seed.address, lost = seed.lost, id = seed.id, me = self_.self()]() {
      auto answer = [core, id, me](Result<std::string> name) {
        SeedAnswer a;
        a.seed = id;
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
        // A named seed's address is the latest word on where it listens (etcd's key, or the
        // configuration): a node that restarted on another port is dialled there. A lost member
        // is dialled where the transport last reached it (its hello's address, or the one this
        // node saw on the connection, is better than the host it names, which may be a wildcard).
        if (!lost || !p.address) p.address = std::make_pair(address.host, address.port);
        answer(address.name);
      }
    });
  }
}

void Membership::seed_answered(const SeedAnswer& a) {
  Seed* found = find_seed(a.seed);
  if (found == nullptr) return;  // etcd dropped it meanwhile
  Seed& seed = *found;
  if (!a.membership.valid()) {
    seed.asking = false;
    not_joined(a.error);
    return;
  }
  ask(a.membership, [this, id = a.seed](const std::string& name) {
    Seed* seed = find_seed(id);
    if (seed == nullptr) return;
    seed->asking = false;
    if (!name.empty()) seed->address.name = name;  // known from now on
    if (!name.empty() && seed->once) std::erase_if(seeds_, [id](const Seed& s) { return s.id == id; });
  });
}

// Joining through `target`: its answer admits it and lists the members to ask next.
// `done` runs first with the answerer's name ("" if it failed). Not a template: ask() calls
// itself with another lambda, which would instantiate without end.
// A run that meets a member again after either declared the other down rejoins as a new
// incarnation (membership_rejoin.cpp): the answer says if the answerer declared this run down, and
// this node does not admit (nor ask) a member whose run it declared down, but tells it so.
void Membership::ask(const DynamicHandle& target, std::function<void(const std::string&)> done) {
  JoinCluster join{me_on_wire()};  // built before the request, not inside it (see g++ 12 notes)
  self_.request(target, std::move(join), setup_.retry_interval * 4)
      .then([this, run = me_.incarnation, done = std::move(done)](Result<MemberList> list) mutable {
        if (stale(run)) return;  // asked by the old run: the new one asks again
        if (!list || list->members.empty()) {
          done(std::string());
          if (!list) not_joined(list.error());
          up_if_joined();
          return;
        }
        const WireMember& answerer = list->members.front();
        done(answerer.name);
        if (me_.state == MemberState::leaving || me_.state == MemberState::removed) return;
        if (list->declared_down == me_.incarnation) return refused_as_down(answerer, list->members.size());
        if (declared_down_here(answerer)) {
          tell_declared_down(answerer);
          return up_if_joined();
        }
        admit(answerer);
        joined_ = true;
        for (std::size_t i = 1; i < list->members.size(); ++i) {
          const WireMember& w = list->members[i];
          if (w.name == me_.name || members_.contains(w.name)) continue;
          if (declared_down_here(w)) {
            tell_declared_down(w);
            continue;
          }
          if (!asking_.insert(w.name).second) continue;
          ask(w.membership, [this, name = w.name](const std::string&) { asking_.erase(name); });
        }
        up_if_joined();
      });
}

// Up once a seed admitted this node and every member it learnt of has answered (admitted it,
// or failed): wait_up() then returns with this node connected to all the members it knows.
void Membership::up_if_joined() {
  if (me_.state != MemberState::joining || !joined_ || !asking_.empty()) return;
  // With etcd, the members it listed at registration have answered too (or failed to).
  if (setup_.etcd && std::any_of(seeds_.begin(), seeds_.end(), [](const Seed& s) { return s.asking; })) return;
  become_up();
}

// A join was refused, or no seed could be reached: why, for wait_up and the log.
void Membership::not_joined(const Error& why) {
  if (why.code == Errc::name_taken || join_error_.code != Errc::name_taken) join_error_ = why;
  if (why.code == Errc::name_taken && setup_.log.enabled(LogLevel::error)) {
    setup_.log.log({.level = LogLevel::error,
                    .name = "join_refused",
                    .message = "cannot join the cluster: " + why.what,
                    .reason = why.what});
  }
}

void Membership::become_up() {
  me_.state = MemberState::up;
  publish(MemberUp{me_});
  for (Waiter& w : waiters_) {
    w.expiry.cancel();
    w.promise.deliver(Unit{});
  }
  waiters_.clear();
}

Promise<Unit> Membership::wait_up(Duration timeout) {
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

void Membership::wait_up_expired(std::uint64_t id) {
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

// etcd lists member `e`: a named seed, asked now (and again while it is not up here).
void Membership::etcd_seen(const EtcdSeen& e) {
  if (e.name == me_.name) return;
  auto it = std::find_if(seeds_.begin(), seeds_.end(), [&e](const Seed& s) { return s.address.name == e.name; });
  if (it == seeds_.end()) {
    seeds_.push_back(Seed{++next_seed_, SeedAddress{e.name, e.host, e.port}, false});
  } else {
    // Where it listens now (it may have restarted on another port while its old key lived on);
    // an ask under way went to the old address, and the next one goes here.
    it->address = SeedAddress{e.name, e.host, e.port};
  }
  ask_seeds();
}

// Member `name`'s key went from etcd: it left, or its lease expired. Down for every node at once,
// even one still connected to it.
void Membership::etcd_gone(const std::string& name) {
  std::erase_if(seeds_, [&name](const Seed& s) { return s.address.name == name; });
  auto it = members_.find(name);
  if (it == members_.end()) return;
  self_.demonitor(it->second.monitor);
  forget(it,
         "node '" + name + "' is down: its key in etcd went (its lease expired, or it rejoins as a new incarnation)");
}

// With etcd, a name's key there decides who holds it (EtcdMembership::claim_name), on the
// transport thread; its answer comes back as a message.
ClusterNames::EtcdHooks Membership::etcd_name_hooks() {
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

}  // namespace troupe::transport::detail
