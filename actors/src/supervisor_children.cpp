// Supervisor, part 1: starting children, and what happens when one stops on its own — the
// restart types, the strategies and the restart intensity.
#include "supervisor_actor.hpp"

#include <troupe/system.hpp>

#include "describe.hpp"
#include "system_internals.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

namespace troupe::detail {

SupervisorActor::SupervisorActor(Context& self, SupervisorSpec spec, std::vector<ChildSpec> children)
    : self_(self), spec_(std::move(spec)) {
  self_.trap_exits(true);  // before any child starts: their exits must come as messages
  children_.reserve(children.size());
  for (auto& c : children) children_.push_back(Child{std::move(c), {}, 0, 0});
  start_all();
}

SupervisorActor::Child* SupervisorActor::find(std::string_view id) noexcept {
  auto it = std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.spec.id == id; });
  return it == children_.end() ? nullptr : &*it;
}

SupervisorActor::Child* SupervisorActor::find(const DynamicHandle& handle) noexcept {
  if (!handle.valid()) return nullptr;
  auto it = std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.handle == handle; });
  return it == children_.end() ? nullptr : &*it;
}

std::size_t SupervisorActor::index_of(std::string_view id) const noexcept {
  auto it = std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.spec.id == id; });
  return static_cast<std::size_t>(it - children_.begin());
}

void SupervisorActor::erase(std::string_view id) noexcept {
  std::erase_if(children_, [&](const Child& c) { return c.spec.id == id; });
}

// Spawns one incarnation (linked: the start function uses spawn_link; the link here only makes
// sure of it) and registers its name.
Result<DynamicHandle> SupervisorActor::start(Child& child) {
  DynamicHandle handle;
  try {
    if (child.spec.start) handle = child.spec.start(self_);
  } catch (...) {
    return Error{Errc::actor_failed, "starting child '" + child.spec.id + "': " + describe(std::current_exception())};
  }
  if (!handle.valid()) return Error{Errc::actor_failed, "starting child '" + child.spec.id + "': no actor"};
  self_.link(handle);  // linking twice is linking once
  if (!child.spec.name.empty()) {
    auto registered = self_.system().register_name(child.spec.name, handle);
    if (!registered.ok() && registered.code() == Errc::name_taken) {
      self_.unlink(handle);  // its exit must not look like a stranger's
      self_.exit(handle, ExitReason::kill());
      return Error{Errc::actor_failed, "starting child '" + child.spec.id + "': " + registered.error().message()};
    }
    // dead_actor: it has stopped already; its exit is on its way and is handled as any other.
  }
  child.handle = handle;
  child.actor = handle.core()->name();
  ++child.incarnation;
  return handle;
}

// The first start, in order. A failure stops those already started and ends the supervisor.
bool SupervisorActor::start_all() {
  for (auto& child : children_) {
    auto started = start(child);
    if (!started.ok()) {
      escalate(child, ExitReason::error("failed to start child '" + child.spec.id + "': " + started.error().message()));
      return false;
    }
  }
  return true;
}

// A child stopped of its own accord (or was killed by someone else). `incarnation` tells an
// event deferred behind a stop job apart from the child's later incarnations.
void SupervisorActor::child_stopped(const std::string& id, std::uint64_t incarnation, const ExitReason& reason) {
  Child* child = find(id);
  if (child == nullptr || child->incarnation != incarnation || child->handle.valid() || terminating_) return;
  const bool abnormal = !reason.is_normal() && reason.kind != ExitReason::Kind::shutdown;
  const Restart type = child->spec.restart;
  if (type == Restart::temporary) {
    erase(id);
    return;
  }
  if (type == Restart::transient && !abnormal) return;
  if (!note_restart()) {
    escalate(*child, ExitReason::error("reached max restart intensity"));
    return;
  }
  switch (spec_.strategy) {
    case Strategy::one_for_one:
      restart_children({id}, id, reason);
      return;
    case Strategy::one_for_all:
    case Strategy::rest_for_one: {
      const std::size_t from = spec_.strategy == Strategy::one_for_all ? 0 : index_of(id);
      std::vector<std::string> to_stop = running_ids(from, id);  // reverse start order
      std::vector<std::string> to_start(to_stop.rbegin(), to_stop.rend());
      to_start.push_back(id);
      stop_children(std::move(to_stop),
                    [this, to_start = std::move(to_start), id, reason] { restart_children(to_start, id, reason); });
      return;
    }
  }
}

// Records a restart; false when it is one too many within the period.
bool SupervisorActor::note_restart() {
  const auto now = self_.system().now();  // the virtual clock in deterministic mode
  while (!restart_times_.empty() && now - restart_times_.front() > spec_.period) restart_times_.pop_front();
  restart_times_.push_back(now);
  return restart_times_.size() <= spec_.max_restarts;
}

// Starts the children named in `ids` that are not running, in start order. A failed start counts
// as one more restart and is tried again, until the intensity is exceeded.
void SupervisorActor::restart_children(const std::vector<std::string>& ids, const std::string& failed,
                                       const ExitReason& reason) {
  std::vector<std::string> order;
  for (const auto& c : children_) {
    if (std::find(ids.begin(), ids.end(), c.spec.id) != ids.end()) order.push_back(c.spec.id);
  }
  for (const auto& id : order) {
    Child* child = find(id);
    if (child == nullptr || child->handle.valid()) continue;
    if (child->spec.restart == Restart::temporary) {  // never restarted: stopped is gone
      erase(id);
      continue;
    }
    // Bounded even with a period so short that old restarts expire during the loop.
    for (std::size_t attempt = 0;; ++attempt) {
      auto started = start(*child);
      if (started.ok()) break;
      if (!note_restart() || attempt >= spec_.max_restarts) {
        escalate(*child, ExitReason::error("reached max restart intensity"));
        return;
      }
    }
    ++child->restarts;
    self_.system().internals().actor_metrics.count_restart(intern_actor_type(child->actor));
    log_restart(*child, failed, reason);
    if (spec_.on_restart) {
      try {
        spec_.on_restart(RestartEvent{child->spec.id, failed, reason, child->restarts, child->handle});
      } catch (...) {  // a throwing hook must not take the supervisor down
      }
    }
  }
}

// The ids of running children from index `from` on, but `except`, in reverse start order.
std::vector<std::string> SupervisorActor::running_ids(std::size_t from, std::string_view except) const {
  std::vector<std::string> ids;
  for (std::size_t i = children_.size(); i > from; --i) {
    const Child& c = children_[i - 1];
    if (c.handle.valid() && c.spec.id != except) ids.push_back(c.spec.id);
  }
  return ids;
}

}  // namespace troupe::detail
