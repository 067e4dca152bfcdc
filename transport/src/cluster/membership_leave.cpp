// A graceful leave, this node's and a member's.
#include "membership_actor.hpp"

#include "../node_core.hpp"
#include "../remote_actor.hpp"

#include <algorithm>

namespace troupe::transport::detail {

// Answered once the transport knows, so the leaver closes its connections only after that.
Promise<Unit> Membership::member_left(const std::string& name, std::uint64_t incarnation) {
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
void Membership::mark_left(const std::string& name, Promise<Unit> promise) {
  std::shared_ptr<NodeCore> node = setup_.node.lock();
  if (!node) return promise.deliver(Unit{});
  node->post([core = node.get(), name, promise]() mutable {
    core->peers().peer(name).left = true;
    promise.deliver(Unit{});
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
  if (std::shared_ptr<NodeCore> node = setup_.node.lock()) {
    node->post([core = node.get(), names = std::move(names)]() {
      for (const std::string& name : names) core->peers().peer(name).left = true;
    });
  }
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
