// Between groups.cpp and scoped_actor.cpp: a ScopedActor may watch process groups, though it is
// not in the system's live set, so the groups ask it whether it has ended.
#pragma once

#include <troupe/actor_cell.hpp>

namespace troupe::detail {

// Whether `cell` is a ScopedActor's core that its owner has not ended yet; if so, it is marked
// as a watcher, so that its end drops its group watches (Groups::drop_all). Asked under the
// ScopedActor's own lock, which its end takes to mark it ended and read that mark before the
// drop: a watch whose check saw it open is found by that drop. (A ScopedActor that never watched
// does not touch the groups at its end.)
bool scoped_actor_admits_watch(ActorCell& cell) noexcept;

}  // namespace troupe::detail
