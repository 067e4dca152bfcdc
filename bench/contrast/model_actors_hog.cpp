// hog as actors. Each ticking task is an actor with a timer: Tick k is due k + 1 periods after the
// actor started, and the actor records how late it handled it, then sets a one-shot timer
// (send_after) for the next tick's due time. (Not send_every: a periodic timer that falls behind
// by more than a period — its timer thread did not get a CPU in time — skips ticks to keep its
// cadence, and a skipped tick has no lateness to measure.) Each hog is one more actor whose
// handler computes for the whole burst, sent a Burst by a one-shot timer at the start of each. A
// handler is never pre-empted, so each hog holds its worker for the burst — and by default there
// are as many hogs as workers. What the ticking actors see then depends on the runtime's safety
// net (Config::stuck_turn, README "A turn that does not end"): with it, a worker stuck in one
// turn for longer than the threshold hands its queued actors to the others and a compensating
// worker starts, so the ticks are about the threshold late at worst; without it
// (`actors-unguarded`, stuck_turn = 0) every worker is held and every tick waits out the burst.
#include <troupe/troupe.hpp>

#include <chrono>

#include "hog.hpp"
#include "model_actors_hog.hpp"
#include "models.hpp"

namespace contrast {

namespace {

constexpr auto kPatience = std::chrono::hours(1);  // a failure bound, never reached when all is well

struct Tick {
  std::uint64_t k;
};
struct TickerDone {
  LatenessSamples samples;
};
struct Burst {};
struct BurstDone {};

class Ticker {
 public:
  Ticker(troupe::Context& self, const HogPlan& plan, troupe::DynamicHandle reply_to)
      : self_(self), plan_(plan), reply_to_(std::move(reply_to)), start_(HogClock::now()) {
    samples_.reserve(plan.ticks_per_task);
    self.send_after(self.self(), plan.tick_due(0), Tick{0});
  }

  auto behavior() {
    return troupe::behavior([this](Tick tick) {
      const HogClock::time_point now = HogClock::now();
      samples_.push_back(lateness_ns(start_ + plan_.tick_due(tick.k), now));
      if (tick.k + 1 < plan_.ticks_per_task) {
        const HogClock::duration until_next = start_ + plan_.tick_due(tick.k + 1) - now;
        // A tick already due (the actor is behind) comes at once, as a timer for a past time
        // fires at once: straight to the mailbox, not through the timer thread.
        if (until_next <= HogClock::duration::zero()) {
          self_.self().send(Tick{tick.k + 1});
        } else {
          self_.send_after(self_.self(), until_next, Tick{tick.k + 1});
        }
        return;
      }
      reply_to_.send(TickerDone{std::move(samples_)});
      self_.quit();
    });
  }

 private:
  troupe::Context& self_;
  const HogPlan& plan_;
  troupe::DynamicHandle reply_to_;
  HogClock::time_point start_;  // before the first timer is set: no tick comes before it is due
  LatenessSamples samples_;
};

auto hog_actor(troupe::Context&, const HogPlan& plan, troupe::DynamicHandle reply_to) {
  return troupe::behavior([&plan, reply_to](Burst) {
    hog_compute(plan.burst, [] {});  // one turn, never pre-empted
    reply_to.send(BurstDone{});
  });
}

}  // namespace

Outcome run_actors_hog(const Params& p, bool safety_net) {
  const HogPlan plan(p);
  troupe::Config config;
  config.workers = p.workers;
  if (!safety_net) config.stuck_turn = std::chrono::microseconds::zero();
  troupe::System system(config);
  troupe::ScopedActor me(system);
  const HogClock::time_point start = HogClock::now();
  for (unsigned h = 0; h < plan.hogs; ++h) {
    troupe::DynamicHandle hog = system.spawn(hog_actor, std::cref(plan), me.handle());
    for (unsigned i = 0; i < plan.bursts; ++i) {
      const HogClock::duration delay = start + plan.burst_start(i) - HogClock::now();
      system.send_after(hog, std::max(delay, HogClock::duration::zero()), Burst{});
    }
  }
  for (unsigned t = 0; t < plan.tasks; ++t) system.spawn<Ticker>(std::cref(plan), me.handle());
  LatenessSamples samples;
  samples.reserve(plan.expected_ticks());
  for (unsigned t = 0; t < plan.tasks; ++t) {
    troupe::Result<TickerDone> done = me.receive<TickerDone>(kPatience);
    if (!done) return failure("a ticking actor did not finish: " + done.error().message());
    samples.insert(samples.end(), done->samples.begin(), done->samples.end());
  }
  for (unsigned i = 0; i < plan.bursts * plan.hogs; ++i) {
    if (!me.receive<BurstDone>(kPatience)) return failure("a hog did not finish");
  }
  return check_hog(p, samples);
}

std::optional<Outcome> run_actors_unguarded(Workload w, const Params& p) {
  if (w != Workload::hog) return std::nullopt;
  return run_actors_hog(p, false);
}

}  // namespace contrast
