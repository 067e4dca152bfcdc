// A graceful leave, this node's and a member's.
#include "membership_actor.hpp"

#include "../node_core.hpp"
#include "../remote_actor.hpp"

#include <algorithm>

namespace troupe::transport::detail {

// Answered once the transport knows, so the leaver closes its connections only after that.
Promise<Unit> Membership::member_left(const std::string& name, std::uint64_t incarnation) {
  Promise<Unit> promise = self_.promise<Unit>();
  forget_lost(name);  // it left on purpose: never dialled again, even if declared down here
  if (auto it = members_.find(name); it != members_.end() && it->second.member.incarnation == incarnation) {
    self_.demonitor(it->second.monitor);
    it->second.member.state = MemberState::leaving;  // it had said so: forget() reports it left
    forget(it, {});
  }
  mark_left({name}, [promise]() mutable { promise.deliver(Unit{}); });
  return promise;
}

// On the transport thread: the connections to `names` closing next are leaves, not failures
// (Liveness::node_down); then `then` runs (at once if the node has stopped).
void Membership::mark_left(std::vector<std::string> names, std::function<void()> then) {
  std::shared_ptr<NodeCore> node = setup_.node.lock();
  if (!node) return then();
  node->post([core = node.get(), names = std::move(names), then = std::move(then)]() {
    for (const std::string& name : names) core->peers().peer(name).left = true;
    then();
  });
}

// A graceful leave: LeavingCluster to every member; once all answered, LeftCluster to each;
// once all answered that (each after its transport knows), this node is removed.
Promise<Unit> Membership::leave(Duration timeout) {
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

void Membership::send_left() {
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
  mark_left(std::move(names), [] {});
  if (leave_answers_ == 0) finish_leave();
}

void Membership::finish_leave() {
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

}  // namespace troupe::transport::detail
