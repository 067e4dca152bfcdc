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

namespace {

// A request to the node's membership actor, from a thread of the caller's (not an actor's):
// node_stopped once the node has stopped.
template <class R, class M>
Result<R> ask_membership(detail::NodeCore& core, M message, Duration timeout) {
  const DynamicHandle& membership = core.membership();
  if (!membership.valid()) return node_stopped();
  ScopedActor self(core.system());
  return self.request<R>(membership, std::move(message), timeout);
}

Result<void> without_value(const Result<Unit>& r) {
  if (!r) return r.error();
  return {};
}

}  // namespace

std::vector<Member> Cluster::members(Duration timeout) {
  Result<std::vector<Member>> all = ask_membership<std::vector<Member>>(*core_, detail::GetMembers{}, timeout);
  return all ? std::move(*all) : std::vector<Member>{};
}

Result<void> Cluster::wait_up(Duration timeout) {
  detail::WaitUp wait;
  wait.timeout = timeout;
  return without_value(ask_membership<Unit>(*core_, std::move(wait), timeout + kAnswerSlack));
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
  detail::Leave leave;
  leave.timeout = timeout;
  return without_value(ask_membership<Unit>(*core_, std::move(leave), timeout + kAnswerSlack));
}

Result<void> Cluster::register_name(std::string name, const DynamicHandle& actor, Duration timeout) {
  detail::RegisterClusterName r{std::move(name), actor};
  return without_value(ask_membership<Unit>(*core_, std::move(r), timeout));
}

bool Cluster::unregister_name(std::string_view name, Duration timeout) {
  Result<bool> done = ask_membership<bool>(*core_, detail::UnregisterClusterName{std::string(name)}, timeout);
  return done && *done;
}

Result<DynamicHandle> Cluster::whereis(std::string_view name, Duration timeout) {
  return ask_membership<DynamicHandle>(*core_, WhereisName{std::string(name), Duration::zero()}, timeout);
}

Result<DynamicHandle> Cluster::await_name(std::string_view name, Duration timeout) {
  return ask_membership<DynamicHandle>(*core_, WhereisName{std::string(name), timeout}, timeout + kAnswerSlack);
}

DynamicHandle Cluster::registry() const { return core_->membership(); }

}  // namespace troupe::transport
