// Supervisor, part 4: spawning one (from the system, or linked from an actor), and the child spec
// of a nested supervisor.
#include <troupe/spawn.hpp>
#include <troupe/supervisor.hpp>
#include <troupe/system.hpp>

#include "supervisor_actor.hpp"

#include <utility>

namespace troupe {
namespace {

template <class H>
SupervisorHandle as_supervisor(const H& handle) noexcept {
  runtime::ActorCore* core = handle.core();
  core->add_ref();  // the new handle's own reference
  return SupervisorHandle::adopt(core);
}

}  // namespace

SupervisorHandle System::spawn_supervisor(SupervisorSpec spec, std::vector<ChildSpec> children) {
  return as_supervisor(
      spawn_class<detail::SupervisorActor>(SpawnOptions{}, nullptr, std::move(spec), std::move(children)));
}

SupervisorHandle Context::spawn_supervisor(SupervisorSpec spec, std::vector<ChildSpec> children) {
  return as_supervisor(
      system().spawn_class<detail::SupervisorActor>(SpawnOptions{}, &cell(), std::move(spec), std::move(children)));
}

ChildSpec supervisor_child(std::string id, SupervisorSpec spec, std::vector<ChildSpec> children) {
  ChildSpec child;
  child.id = std::move(id);
  child.start = [spec = std::move(spec), children = std::move(children)](Context& self) -> DynamicHandle {
    return self.spawn_supervisor(spec, children);
  };
  child.shutdown = Shutdown::infinity();
  child.supervisor = true;
  return child;
}

}  // namespace troupe
