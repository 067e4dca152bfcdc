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
#include <utility>

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

// One signal between actors (EnvelopeKind::signal, payload Signal): a link, an unlink, a
// monitor, a demonitor, an exit signal or a Down. Its kinds are the wire's (transport's
// wire::SignalKind), one for one, so a signal crosses nodes as it is. Internal: built by the
// named factories below, which say what each field means for each kind.
struct Signal {
  enum class Kind : std::uint8_t { link, unlink, monitor, demonitor, exit, down };
  // Why an exit signal was sent, by name rather than position.
  struct ExitFlags {
    bool linked = false;       // because of a link: ignored if the receiver unlinked meanwhile
    bool untrappable = false;  // self.exit(h, ExitReason::kill)
  };

  Kind kind = Kind::link;
  // link, unlink: the actor that links or unlinks; monitor: the watcher (send it a Down with
  // `ref` on stopping); exit: the sender (empty for a link to an empty handle); down: the actor
  // that stopped.
  DynamicHandle from;
  runtime::ActorCore* watcher = nullptr;  // demonitor: the watcher; identity only, never dereferenced
  MonitorRef ref;                         // monitor, demonitor, down
  ExitReason reason;                      // exit, down
  ExitFlags exit_flags;                   // exit

  static Signal link(DynamicHandle from) { return Signal(Kind::link, std::move(from)); }
  static Signal unlink(DynamicHandle from) { return Signal(Kind::unlink, std::move(from)); }
  static Signal monitor(DynamicHandle watcher, MonitorRef ref) {
    Signal s(Kind::monitor, std::move(watcher));
    s.ref = ref;
    return s;
  }
  static Signal demonitor(runtime::ActorCore* watcher, MonitorRef ref) {
    Signal s(Kind::demonitor, DynamicHandle());
    s.watcher = watcher;
    s.ref = ref;
    return s;
  }
  // An exit signal with its flags as stated (one that came from another node says them).
  static Signal exit(DynamicHandle from, ExitReason reason, ExitFlags flags) {
    Signal s(Kind::exit, std::move(from));
    s.reason = std::move(reason);
    s.exit_flags = flags;
    return s;
  }
  // self.exit(h, reason): untrappable when the reason is kill.
  static Signal exit(DynamicHandle from, ExitReason reason) {
    const bool kill = reason.kind == ExitReason::Kind::kill;
    return exit(std::move(from), std::move(reason), ExitFlags{.linked = false, .untrappable = kill});
  }
  // The exit signal of a linked actor that stopped with `reason` (or of a link answered for an
  // actor that is gone).
  static Signal link_exit(DynamicHandle from, ExitReason reason) {
    return exit(std::move(from), std::move(reason), ExitFlags{.linked = true, .untrappable = false});
  }
  static Signal down(DynamicHandle actor, ExitReason reason, MonitorRef ref) {
    Signal s(Kind::down, std::move(actor));
    s.reason = std::move(reason);
    s.ref = ref;
    return s;
  }

 private:
  Signal(Kind k, DynamicHandle f) : kind(k), from(std::move(f)) {}
};

// Pushes a signal envelope and flags it, so the receiver handles it before queued messages.
void send_signal(runtime::ActorCore* target, Envelope* signal) noexcept;
// Makes the envelope of `signal` (throws std::bad_alloc) and sends it as above.
void send_signal(runtime::ActorCore* target, Signal signal);

// A link or monitor taken of `gone`, an actor that has stopped (or can no longer be reached), is
// answered at once, as a live actor would have answered on stopping: a monitor gets a Down with
// `down_reason`, a link the exit signal `link_reason`. Other signals mean nothing now. Throws
// std::bad_alloc (no memory for the answer).
void answer_for_gone(const DynamicHandle& gone, Signal& signal, const ExitReason& down_reason,
                     const ExitReason& link_reason);

}  // namespace detail
}  // namespace troupe
