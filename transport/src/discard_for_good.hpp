// What a node's executor does with one of its actors (a remote actor, the export watcher) once the
// node has stopped and nothing will run it again (NodeCore::never_run): drop what it holds now,
// since kept it could make a cycle that keeps the node alive for ever.
#pragma once

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/mailbox.hpp>

#include <thread>

namespace troupe::transport::detail {

// `drop_queued` pops and drops everything in `mailbox`; this repeats it until the mailbox can be
// marked empty (a sender between its push and its link is waited for), so the next push hands the
// actor over again, to be dropped the same way. The actor is held meanwhile: a dropped message may
// hold the last other reference to it.
template <class DropQueued>
void discard_for_good(runtime::ActorCore& actor, runtime::Mailbox& mailbox, DropQueued drop_queued) noexcept {
  actor.add_ref();
  for (;;) {
    drop_queued();
    if (mailbox.try_mark_empty()) break;
    std::this_thread::yield();
  }
  actor.release();
}

}  // namespace troupe::transport::detail
