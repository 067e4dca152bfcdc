// Links and monitors: the messages an actor's behavior sees when an actor it watches stops.
//
//   self.monitor(h)   one-way: when h stops, this actor gets a Down (handle it like any message)
//   self.link(h)      two-way: when either stops with a reason other than normal, the other stops
//                     too, with the same reason, unless it traps exits (self.trap_exits(true)):
//                     then it gets an Exit message instead
//   self.exit(h, r)   sends h an exit signal with reason r; ExitReason::kill cannot be trapped
#pragma once

#include <troupe/exit_reason.hpp>
#include <troupe/handle.hpp>

#include <cstdint>

namespace troupe {

// Names one monitor of the actor that took it (unique per watcher, never 0).
struct MonitorRef {
  std::uint64_t id = 0;
  explicit operator bool() const noexcept { return id != 0; }
  friend bool operator==(const MonitorRef&, const MonitorRef&) = default;
};

// A monitored actor stopped (or was already gone when the monitor was taken: its reason then,
// or noproc for an empty handle).
struct Down {
  DynamicHandle actor;
  ExitReason reason;
  MonitorRef ref;
};

// An exit signal, as a trapping actor receives it: from a linked actor that stopped, or from
// self.exit(...). `from` is empty when the link target was an empty handle.
struct Exit {
  DynamicHandle from;
  ExitReason reason;
};

namespace detail {

// The signals themselves (EnvelopeKind::signal; the payload type says which). Internal.
struct LinkSignal {
  DynamicHandle from;  // link me
};
struct UnlinkSignal {
  DynamicHandle from;  // unlink me
};
struct MonitorSignal {
  DynamicHandle watcher;  // send a Down with `ref` to `watcher` when you stop
  MonitorRef ref;
};
struct DemonitorSignal {
  runtime::ActorCore* watcher;  // identity only, never dereferenced
  MonitorRef ref;
};
struct ExitSignal {
  Exit exit;
  bool linked;       // sent because of a link: ignored if the receiver unlinked meanwhile
  bool untrappable;  // self.exit(h, ExitReason::kill)
};
// A Down travels as a signal with payload Down (checked against the watcher's monitors).

// Pushes a signal envelope and flags it, so the receiver handles it before queued messages.
void send_signal(runtime::ActorCore* target, Envelope* signal) noexcept;

}  // namespace detail
}  // namespace troupe
