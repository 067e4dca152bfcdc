// System::metrics() and what serves it: the snapshot's assembly from the per-thread counters
// (actor_metrics.hpp), the runtime's and the nodes' sources, and the hook to the HTTP exporter.
#include <troupe/metrics_server.hpp>
#include <troupe/system.hpp>

#include "system_internals.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace troupe {

namespace {

// Set once, at program start, by the exporter library (metrics_server.hpp). Acquire/release:
// a System constructed later on another thread sees the factory whole; in practice static
// initialization is over before main.
std::atomic<detail::MetricsServerFactory> server_factory{nullptr};

// TROUPE_METRICS serves the first system of the process that asks for nothing itself.
std::atomic<bool> environment_address_taken{false};

// Per type: what the live set counts (live, exits, messages; spawned is their sum) and the per-thread
// counters do (handling times, restarts); the types with anything to show, by name.
void collect_actor_types(System::Internals& in, MetricsSnapshot& snapshot) {
  std::vector<detail::LiveSet::TypeCounts> counts;
  in.live.collect(counts);
  std::vector<ActorTypeMetrics> types(counts.size());
  in.actor_metrics.collect(types, snapshot);
  for (std::size_t id = 0; id < types.size(); ++id) {
    ActorTypeMetrics& m = types[id];
    const detail::LiveSet::TypeCounts& c = counts[id];
    std::uint64_t stopped = 0;
    for (const std::uint64_t e : c.exits) stopped += e;
    const std::uint64_t spawned = c.live + stopped;  // every actor spawned is live or has stopped
    if (spawned == 0 && c.messages == 0 && m.restarts == 0 && m.handling_time.count == 0) continue;
    m.type = std::string(detail::actor_type_name(static_cast<detail::ActorTypeId>(id)));
    m.live = c.live;
    m.spawned = spawned;
    m.messages = c.messages;
    m.exits = c.exits;
    snapshot.actor_types.push_back(std::move(m));
  }
  std::sort(snapshot.actor_types.begin(), snapshot.actor_types.end(),
            [](const ActorTypeMetrics& a, const ActorTypeMetrics& b) { return a.type < b.type; });
}

}  // namespace

void detail::install_metrics_server(MetricsServerFactory factory) noexcept {
  server_factory.store(factory, std::memory_order_release);
}

std::string_view dead_letter_reason_name(std::size_t reason) noexcept {
  switch (static_cast<DeadLetter::Reason>(reason)) {
    case DeadLetter::Reason::receiver_stopped:
      return "receiver_stopped";
    case DeadLetter::Reason::unhandled:
      return "unhandled";
    case DeadLetter::Reason::mailbox_full:
      return "mailbox_full";
    case DeadLetter::Reason::not_serializable:
      return "not_serializable";
    case DeadLetter::Reason::message_too_large:
      return "message_too_large";
  }
  return "unknown";
}

std::uint64_t System::add_metrics_source(std::function<void(MetricsSnapshot&)> fill) {
  std::lock_guard lock(internals_->metrics_mutex);
  const std::uint64_t id = internals_->next_metrics_source++;
  internals_->metrics_sources.emplace_back(id, std::move(fill));
  return id;
}

void System::remove_metrics_source(std::uint64_t id) {
  std::lock_guard lock(internals_->metrics_mutex);  // waits for a snapshot that calls it
  std::erase_if(internals_->metrics_sources, [id](const auto& source) { return source.first == id; });
}

std::string System::serve_metrics(const std::string& address) {
  const detail::MetricsServerFactory factory = server_factory.load(std::memory_order_acquire);
  if (factory == nullptr) {
    throw std::runtime_error("cannot serve metrics on " + address +
                             ": the exporter is not linked (link troupe::troupe, or troupe::observe)");
  }
  std::lock_guard lock(internals_->metrics_mutex);
  if (internals_->metrics_server) {
    throw std::runtime_error("cannot serve metrics on " + address + ": this system serves them on " +
                             internals_->metrics_server->address() + " already");
  }
  internals_->metrics_server = factory(*this, address);
  return internals_->metrics_server->address();
}

std::string System::metrics_address() const {
  std::lock_guard lock(internals_->metrics_mutex);
  return internals_->metrics_server ? internals_->metrics_server->address() : std::string{};
}

// Config::metrics_address, or TROUPE_METRICS for the first system that sets none. A bad address
// in the environment is logged and skipped (it must not stop a program that did not ask for
// metrics in its code); one in the Config throws from the constructor.
void System::start_configured_metrics() {
  const std::string& configured = internals_->config.metrics_address;
  if (!configured.empty()) {
    serve_metrics(configured);
    return;
  }
  const char* from_environment = std::getenv("TROUPE_METRICS");
  if (from_environment == nullptr || *from_environment == '\0') return;
  // Relaxed: only the exchange's atomicity matters (one system takes it).
  if (environment_address_taken.exchange(true, std::memory_order_relaxed)) return;
  try {
    serve_metrics(from_environment);
  } catch (const std::exception& e) {
    if (internals_->logger.enabled(LogLevel::error)) {
      const LogField address[] = {{"address", from_environment}};
      internals_->logger.log({.level = LogLevel::error,
                              .name = "metrics_not_served",
                              .message = std::string("TROUPE_METRICS: ") + e.what(),
                              .fields = address});
    }
  }
}

void System::stop_metrics_server() noexcept {
  std::unique_ptr<detail::MetricsServer> server;
  {
    std::lock_guard lock(internals_->metrics_mutex);
    server = std::move(internals_->metrics_server);
  }
  server.reset();  // outside the lock: a request under way may be taking a snapshot
}

MetricsSnapshot System::metrics() const {
  MetricsSnapshot snapshot;
  snapshot.taken = std::chrono::system_clock::now();
  auto& in = *internals_;
  snapshot.uptime = std::chrono::steady_clock::now() - in.started;
  snapshot.live_actors = in.live.size();
  for (std::size_t r = 0; r < dead_letter_reasons; ++r) {
    snapshot.dead_letters[r] = in.dead_letters_by_reason[r].load(std::memory_order_relaxed);  // a statistic
  }
  if (in.timers) snapshot.timers_pending = in.timers->pending();
  {
    std::lock_guard lock(in.blocking_mutex);
    snapshot.blocking_threads = in.blocking_threads.size();
  }
  if (in.pool) {
    const runtime::SchedulerStats stats = in.pool->stats();
    snapshot.stuck_turns = stats.stuck_turns;
    snapshot.compensating_started = stats.compensating_started;
    snapshot.workers = in.pool->worker_metrics();
  }
  collect_actor_types(in, snapshot);
  std::lock_guard lock(in.metrics_mutex);
  for (auto& [id, fill] : in.metrics_sources) {
    try {
      fill(snapshot);
    } catch (...) {  // a source that fails leaves its part out, not the snapshot
    }
  }
  return snapshot;
}

}  // namespace troupe
