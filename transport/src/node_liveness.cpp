// A node's side of liveness across nodes: what a node-down undoes (monitors, links, pending
// requests, handles to the peer's actors), and the link/monitor/exit/down signals a peer sends.
#include "node_core.hpp"
#include "remote_actor.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>
#include <troupe/transport/wire_type.hpp>

namespace troupe::transport::detail {

void NodeCore::node_down(Peer& p, const std::string& why) {
  log("node '" + p.name + "' is down: " + why);
  p.connection = nullptr;
  p.dialing = false;
  p.credit = 0;  // the next connection starts from the window its peer grants it
  p.credit_bytes = 0;
  back_off(p);
  fail_lookups(p, "connection to node '" + p.name + "' closed");
  const ExitReason reason = ExitReason::node_down(p.name);
  auto proxy_of = [&](std::uint64_t remote_id) {
    auto it = proxies_.find({&p, remote_id});
    return it == proxies_.end() ? DynamicHandle{} : it->second;
  };
  // Each notice is a signal to a local actor; one that cannot be allocated is lost (as locally).
  auto notify = [](runtime::ActorCore* target, auto make) {
    if (target == nullptr) return;
    try {
      troupe::detail::send_signal(target, make());
    } catch (...) {
    }
  };
  for (const auto& [request, deadline] : p.requests) {
    const auto& [requester, request_id] = request;
    if (runtime::ActorCore* r = exported(requester)) {
      troupe::detail::send_response_error(r, request_id, Error{Errc::node_down, "node '" + p.name + "' went down"});
    }
  }
  for (const auto& [remote, watcher, ref] : p.monitors) {
    // Structured bindings captured by name (clang before 16 cannot capture them implicitly).
    notify(exported(watcher), [&, remote = remote, ref = ref] {
      return make_envelope<Down>(EnvelopeKind::signal, Down{proxy_of(remote), reason, MonitorRef{ref}});
    });
  }
  for (const auto& [remote, local] : p.links) {
    notify(exported(local), [&, remote = remote] {
      return make_envelope<troupe::detail::ExitSignal>(
          EnvelopeKind::signal, troupe::detail::ExitSignal{Exit{proxy_of(remote), reason}, true, false});
    });
  }
  for (const auto& [local, watcher, ref] : p.watchers) {  // the peer's watchers are gone: forget them
    DynamicHandle gone = proxy_of(watcher);
    if (!gone.valid()) continue;
    notify(exported(local), [&, ref = ref] {
      return make_envelope<troupe::detail::DemonitorSignal>(
          EnvelopeKind::signal, troupe::detail::DemonitorSignal{gone.core(), MonitorRef{ref}});
    });
  }
  pending_count.fetch_sub(p.requests.size(), std::memory_order_relaxed);  // relaxed: a statistic
  p.requests.clear();
  p.monitors.clear();
  p.links.clear();
  p.watchers.clear();
  // Handles to the peer's actors die with the connection: a restarted peer reuses actor ids.
  for (auto it = proxies_.lower_bound({&p, 0}); it != proxies_.end() && it->first.first == &p;) {
    static_cast<RemoteActor*>(it->second.core())->mark_dead();
    it = proxies_.erase(it);
  }
  if (config_.on_node_down) config_.on_node_down(p.name);
}

void NodeCore::handle_signal(Peer& p, wire::Signal::Reader in) {
  using namespace troupe::detail;
  const std::uint64_t from = in.getFrom();
  const std::uint64_t to = in.getTo();
  const std::uint64_t ref = in.getRef();
  runtime::ActorCore* local = exported(to);
  auto remote = [&]() { return from == 0 ? DynamicHandle{} : DynamicHandle::share(proxy(p, from)); };
  auto reason = [&]() {
    const auto r = in.getReason();
    return exit_reason_from_wire(r.getKind(), std::string(r.getMessage().cStr()));  // a newer kind: error
  };
  auto answer = [&](wire::SignalKind kind) {  // for an actor that is not (or no longer) here
    OutSignal out;
    out.kind = kind;
    out.from = to;
    out.to = from;
    out.ref = ref;
    out.reason = ExitReason::noproc();
    out.linked = true;
    p.signals.push_back(std::move(out));
    flush(p);
  };
  switch (in.getKind()) {
    case wire::SignalKind::LINK:
      if (local == nullptr) return answer(wire::SignalKind::EXIT);
      p.links.emplace(from, to);
      send_signal(local, make_envelope<LinkSignal>(EnvelopeKind::signal, LinkSignal{remote()}));
      return;
    case wire::SignalKind::UNLINK:
      p.links.erase({from, to});
      if (local != nullptr)
        send_signal(local, make_envelope<UnlinkSignal>(EnvelopeKind::signal, UnlinkSignal{remote()}));
      return;
    case wire::SignalKind::MONITOR:
      // A stopped actor answers with its exit reason itself (Context::dead_signal).
      if (local == nullptr) return answer(wire::SignalKind::DOWN);
      p.watchers.emplace(to, from, ref);
      send_signal(local, make_envelope<MonitorSignal>(EnvelopeKind::signal, MonitorSignal{remote(), MonitorRef{ref}}));
      return;
    case wire::SignalKind::DEMONITOR:
      p.watchers.erase({to, from, ref});
      if (local != nullptr) {
        send_signal(local, make_envelope<DemonitorSignal>(EnvelopeKind::signal,
                                                          DemonitorSignal{proxy(p, from), MonitorRef{ref}}));
      }
      return;
    case wire::SignalKind::EXIT:
      if (in.getLinked()) {
        p.links.erase({from, to});
        if (from != 0) proxy(p, from)->mark_stopped(reason());  // a linked exit: it stopped
      }
      if (local != nullptr) {
        send_signal(local,
                    make_envelope<ExitSignal>(EnvelopeKind::signal, ExitSignal{Exit{remote(), reason()}, in.getLinked(),
                                                                               in.getUntrappable()}));
      }
      return;
    case wire::SignalKind::DOWN:
      p.monitors.erase({from, to, ref});
      if (from != 0) proxy(p, from)->mark_stopped(reason());
      if (local != nullptr) {
        send_signal(local, make_envelope<Down>(EnvelopeKind::signal, Down{remote(), reason(), MonitorRef{ref}}));
      }
      return;
  }
  KJ_FAIL_REQUIRE("unknown signal kind (a newer protocol?)");
}

}  // namespace troupe::transport::detail
