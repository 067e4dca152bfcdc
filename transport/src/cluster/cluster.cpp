// Cluster: the node's API to its membership actor (membership.hpp).
#include "../node_core.hpp"
#include "membership_messages.hpp"

#include <troupe/scoped_actor.hpp>
#include <troupe/transport/cluster.hpp>

namespace troupe::transport {
namespace {

// How much longer a blocking call waits than the membership actor's own deadline, so that the
// actor's answer (with its reason) comes before the request's timeout.
constexpr Duration kAnswerSlack = std::chrono::seconds(2);

Error node_stopped() { return Error{Errc::node_unreachable, "the node has stopped"}; }

}  // namespace

const char* to_string(MemberState state) noexcept {
  switch (state) {
    case MemberState::joining:
      return "joining";
    case MemberState::up:
      return "up";
    case MemberState::leaving:
      return "leaving";
    case MemberState::removed:
      return "removed";
    case MemberState::down:
      return "down";
  }
  return "unknown";
}

std::vector<Member> Cluster::members(Duration timeout) {
  const DynamicHandle& membership = core_->membership();
  if (!membership.valid()) return {};
  ScopedActor self(core_->system());
  Result<std::vector<Member>> all = self.request<std::vector<Member>>(membership, detail::GetMembers{}, timeout);
  return all ? std::move(*all) : std::vector<Member>{};
}

Result<void> Cluster::wait_up(Duration timeout) {
  const DynamicHandle& membership = core_->membership();
  if (!membership.valid()) return node_stopped();
  ScopedActor self(core_->system());
  detail::WaitUp wait;
  wait.timeout = timeout;
  Result<Unit> up = self.request<Unit>(membership, std::move(wait), timeout + kAnswerSlack);
  if (!up) return up.error();
  return {};
}

void Cluster::subscribe(const DynamicHandle& watcher) {
  if (const DynamicHandle& membership = core_->membership(); membership.valid()) {
    membership.send(detail::Subscribe{watcher});
  }
}

void Cluster::unsubscribe(const DynamicHandle& watcher) {
  if (const DynamicHandle& membership = core_->membership(); membership.valid()) {
    membership.send(detail::Unsubscribe{watcher});
  }
}

Result<void> Cluster::leave(Duration timeout) {
  const DynamicHandle& membership = core_->membership();
  if (!membership.valid()) return node_stopped();
  ScopedActor self(core_->system());
  detail::Leave leave;
  leave.timeout = timeout;
  Result<Unit> left = self.request<Unit>(membership, std::move(leave), timeout + kAnswerSlack);
  if (!left) return left.error();
  return {};
}

Result<void> Cluster::register_name(std::string name, const DynamicHandle& actor, Duration timeout) {
  const DynamicHandle& membership = core_->membership();
  if (!membership.valid()) return node_stopped();
  ScopedActor self(core_->system());
  detail::RegisterClusterName r{std::move(name), actor};
  Result<Unit> done = self.request<Unit>(membership, std::move(r), timeout);
  if (!done) return done.error();
  return {};
}

bool Cluster::unregister_name(std::string_view name, Duration timeout) {
  const DynamicHandle& membership = core_->membership();
  if (!membership.valid()) return false;
  ScopedActor self(core_->system());
  Result<bool> done = self.request<bool>(membership, detail::UnregisterClusterName{std::string(name)}, timeout);
  return done && *done;
}

Result<DynamicHandle> Cluster::whereis(std::string_view name, Duration timeout) {
  const DynamicHandle& membership = core_->membership();
  if (!membership.valid()) return node_stopped();
  ScopedActor self(core_->system());
  return self.request<DynamicHandle>(membership, WhereisName{std::string(name), Duration::zero()}, timeout);
}

Result<DynamicHandle> Cluster::await_name(std::string_view name, Duration timeout) {
  const DynamicHandle& membership = core_->membership();
  if (!membership.valid()) return node_stopped();
  ScopedActor self(core_->system());
  return self.request<DynamicHandle>(membership, WhereisName{std::string(name), timeout}, timeout + kAnswerSlack);
}

DynamicHandle Cluster::registry() const { return core_->membership(); }

}  // namespace troupe::transport
