#include "liveness.hpp"

#include "node_core.hpp"
#include "remote_actor.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>

#include <utility>

namespace troupe::transport::detail {

using troupe::detail::Signal;

void Liveness::node_down(Peer& p, const std::string& why, Cause cause) {
  const bool left = std::exchange(p.left, false);  // it said goodbye: not a failure to report
  const bool failed = !left && cause == Cause::lost;
  if (failed) ++p.counts.downs;  // a loss: not a leave, nor this node's own rejoin
  // A leave is news (info), a loss is trouble (warning).
  const LogLevel level = left ? LogLevel::info : LogLevel::warning;
  if ((left || failed) && node_.log().enabled(level)) {
    node_.log().log(
        {.level = level,
         .name = left ? "node_left" : "node_down",
         .message = left ? "node '" + p.name + "' left the cluster; " + why : "node '" + p.name + "' is down: " + why,
         .peer = p.name,
         .reason = why});
  }
  node_.dialler().dial_ended(p);
  p.outbox.forget_credit();  // the next connection starts from the window its peer grants it
  node_.dialler().back_off(p);
  node_.dead_letters().unreachable(p, "connection to node '" + p.name + "' closed");
  untie(p, "node '" + p.name + "' went down");
  if (node_.config().on_node_down && failed) node_.config().on_node_down(p.name);
}

void Liveness::node_stopped(Peer& p) { untie(p, "node '" + node_.config().name + "' stopped"); }

void Liveness::untie(Peer& p, const std::string& why_requests_fail) {
  const ExitReason reason = ExitReason::node_down(p.name);
  const Exports& exports = node_.exports();
  const Proxies& proxies = node_.proxies();
  // Each notice is a signal to a local actor; one that cannot be allocated is lost (as locally).
  auto notify = [](runtime::ActorCore* target, auto make) {
    if (target == nullptr) return;
    try {
      troupe::detail::send_signal(target, make());
    } catch (...) {
    }
  };
  for (const auto& [request, deadline] : node_.requests().take(p)) {
    const auto& [requester, request_id] = request;
    if (runtime::ActorCore* r = exports.exported(requester)) {
      troupe::detail::send_response_error(r, request_id, Error{Errc::node_down, why_requests_fail});
    }
  }
  for (const auto& [remote, watcher, ref] : p.ties.monitors()) {
    // Structured bindings captured by name (clang before 16 cannot capture them implicitly).
    notify(exports.exported(watcher),
           [&, remote = remote, ref = ref] { return Signal::down(proxies.find(p, remote), reason, MonitorRef{ref}); });
  }
  for (const auto& [remote, local] : p.ties.links()) {
    notify(exports.exported(local),
           [&, remote = remote] { return Signal::link_exit(proxies.find(p, remote), reason); });
  }
  for (const auto& [local, watcher, ref] : p.ties.watchers()) {  // the peer's watchers are gone: forget them
    DynamicHandle gone = proxies.find(p, watcher);
    if (!gone.valid()) continue;
    notify(exports.exported(local), [&, ref = ref] { return Signal::demonitor(gone.core(), MonitorRef{ref}); });
  }
  p.ties.clear();
  // Handles to the peer's actors die with the connection: a restarted peer reuses actor ids.
  node_.proxies().kill(p);
}

// The one switch of the receiving side: a wire signal becomes a signal to a local actor, and the
// peer's ties remember what a node-down must undo.
void Liveness::on_signal(Peer& p, const WireSignal& in) {
  using troupe::detail::send_signal;
  Proxies& proxies = node_.proxies();
  runtime::ActorCore* local = node_.exports().exported(in.to);
  auto remote = [&]() { return in.from == 0 ? DynamicHandle{} : DynamicHandle::share(proxies.proxy(p, in.from)); };
  auto answer = [&](SignalKind kind) {  // for an actor that is not (or no longer) here
    WireSignal out;
    out.kind = kind;
    out.from = in.to;
    out.to = in.from;
    out.ref = in.ref;
    out.reason = ExitReason::noproc();
    out.exit_flags = ExitFlags{.linked = true, .untrappable = false};
    p.outbox.push(std::move(out));
    node_.dialler().flush(p);
  };
  switch (in.kind) {
    case SignalKind::link:
      if (local == nullptr) return answer(SignalKind::exit);
      p.ties.link(in.from, in.to);
      send_signal(local, Signal::link(remote()));
      return;
    case SignalKind::unlink:
      p.ties.unlink(in.from, in.to);
      if (local != nullptr) send_signal(local, Signal::unlink(remote()));
      return;
    case SignalKind::monitor:
      // A stopped actor answers with its exit reason itself (Context::dead_signal).
      if (local == nullptr) return answer(SignalKind::down);
      p.ties.watch(in.to, in.from, in.ref);
      send_signal(local, Signal::monitor(remote(), MonitorRef{in.ref}));
      return;
    case SignalKind::demonitor:
      p.ties.unwatch(in.to, in.from, in.ref);
      if (local != nullptr) send_signal(local, Signal::demonitor(proxies.proxy(p, in.from), MonitorRef{in.ref}));
      return;
    case SignalKind::exit:
      if (in.exit_flags.linked) {
        p.ties.unlink(in.from, in.to);
        if (in.from != 0) proxies.proxy(p, in.from)->mark_stopped(in.reason);  // a linked exit: it stopped
      }
      if (local != nullptr) send_signal(local, Signal::exit(remote(), in.reason, in.exit_flags));
      return;
    case SignalKind::down:
      p.ties.demonitor(in.from, in.to, in.ref);
      if (in.from != 0) proxies.proxy(p, in.from)->mark_stopped(in.reason);
      if (local != nullptr) send_signal(local, Signal::down(remote(), in.reason, MonitorRef{in.ref}));
      return;
  }
}

}  // namespace troupe::transport::detail
