// Supervisor, part 3: the client requests (dynamic children, which_children, stop). Those that
// change the children wait for a stop job under way to end; the replies come through promises.
#include "supervisor_actor.hpp"

#include <utility>

namespace troupe::detail {
namespace {

Error no_child(const std::string& id) { return Error{Errc::no_child, id}; }

}  // namespace

// The child `id`, if it exists and is not running (restart_child and delete_child need both).
Result<SupervisorActor::Child*> SupervisorActor::stopped_child(const std::string& id) {
  Child* child = find(id);
  if (child == nullptr) return no_child(id);
  if (child->handle.valid()) return Error{Errc::child_running, id};
  return child;
}

Promise<DynamicHandle> SupervisorActor::on_start_child(StartChild& r) {
  auto promise = self_.promise<DynamicHandle>();
  when_steady([this, promise, spec = std::move(r.spec)]() mutable {
    if (find(spec.id) != nullptr) {
      promise.fail(Error{Errc::child_exists, spec.id});
      return;
    }
    const std::string id = spec.id;
    children_.push_back(Child{std::move(spec), {}, 0, 0});
    auto started = start(children_.back());
    if (!started.ok()) {
      erase(id);  // a child that cannot start is not kept
      promise.fail(started.error());
      return;
    }
    promise.deliver(std::move(started).value());
  });
  return promise;
}

Promise<void> SupervisorActor::on_terminate_child(TerminateChild& r) {
  auto promise = self_.promise<void>();
  when_steady([this, promise, id = std::move(r.id)]() mutable {
    Child* child = find(id);
    if (child == nullptr) {
      promise.fail(no_child(id));
      return;
    }
    if (!child->handle.valid()) {  // stopped already: nothing to do
      if (child->spec.restart == Restart::temporary) erase(id);
      promise.deliver();
      return;
    }
    stop_children({id}, [promise]() mutable { promise.deliver(); });
  });
  return promise;
}

Promise<DynamicHandle> SupervisorActor::on_restart_child(RestartChild& r) {
  auto promise = self_.promise<DynamicHandle>();
  when_steady([this, promise, id = std::move(r.id)]() mutable {
    auto child = stopped_child(id);
    if (!child) {
      promise.fail(child.error());
      return;
    }
    auto started = start(**child);
    if (!started.ok()) {
      promise.fail(started.error());
      return;
    }
    promise.deliver(std::move(started).value());
  });
  return promise;
}

Promise<void> SupervisorActor::on_delete_child(DeleteChild& r) {
  auto promise = self_.promise<void>();
  when_steady([this, promise, id = std::move(r.id)]() mutable {
    if (auto child = stopped_child(id); !child) {
      promise.fail(child.error());
      return;
    }
    erase(id);
    promise.deliver();
  });
  return promise;
}

std::vector<ChildInfo> SupervisorActor::which_children() const {
  std::vector<ChildInfo> infos;
  infos.reserve(children_.size());
  for (const auto& c : children_) {
    infos.push_back(ChildInfo{c.spec.id, c.handle, c.handle.valid(), c.spec.supervisor, c.restarts});
  }
  return infos;
}

ChildCounts SupervisorActor::count_children() const {
  ChildCounts counts;
  for (const auto& c : children_) {
    ++counts.specs;
    if (c.handle.valid()) ++counts.active;
    ++(c.spec.supervisor ? counts.supervisors : counts.workers);
  }
  return counts;
}

// Answered once every child has stopped, just before the supervisor exits (normally).
Promise<void> SupervisorActor::on_stop() {
  auto promise = self_.promise<void>();
  stop_waiters_.push_back(promise);
  shutdown(ExitReason::normal());
  return promise;
}

}  // namespace troupe::detail
