// timers: messages sent later (send_after), messages sent periodically (send_every), and
// cancelling either.
//
// A timer does not run code; it sends a message, so the actor handles it like any other, one
// message at a time, on its own state. One timer thread serves the whole system and sleeps until
// the next due time: a busy actor never delays a timer, and an idle system costs nothing.
// Both calls exist on System (from anywhere) and on Context (inside an actor, shown here); they
// return a Timer, whose cancel() stops it. Copies of a Timer share it; dropping one does not cancel.
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Start {
  troupe::DynamicHandle report_to;
};
struct Reminder {  // one-shot
  Clock::time_point set_at;
};
struct Tick {};   // periodic
struct Alarm {};  // one-shot, cancelled before it is due: never arrives
struct Check {};  // one-shot: time to report
struct GetTicks {};

struct Report {
  Clock::duration reminder_delay{};
  int ticks = 0;
  int ticks_after_cancel = 0;
  bool ticker_cancelled = false;
  bool alarm_cancelled = false;
  int alarms = 0;
};

constexpr auto kReminderDelay = 50ms;
constexpr auto kTickPeriod = 10ms;
constexpr int kTicksWanted = 5;

class Clockwork {
 public:
  explicit Clockwork(troupe::Context& self) : self_(self) {}

  auto behavior() {
    return troupe::behavior(
        [this](const Start& start) {
          report_to_ = start.report_to;
          const troupe::DynamicHandle me = self_.self();
          self_.send_after(me, kReminderDelay, Reminder{Clock::now()});  // once, 50 ms from now
          ticker_ = self_.send_every(me, kTickPeriod, Tick{});           // every 10 ms until cancelled
          // A pending one-shot timer keeps the system busy (its destructor would wait 10 s for
          // this one); cancelling it releases it.
          alarm_ = self_.send_after(me, 10s, Alarm{});
        },
        [this](Tick) {
          if (++report_.ticks != kTicksWanted) return;
          // Enough ticks: stop the series and the alarm. cancel() says whether this call stopped
          // the timer (false: it had already fired, or was cancelled before).
          report_.ticker_cancelled = ticker_.cancel();
          report_.alarm_cancelled = alarm_.cancel();
          ticks_at_cancel_ = report_.ticks;
          self_.send_after(self_.self(), 100ms, Check{});
        },
        [this](const Reminder& reminder) { report_.reminder_delay = Clock::now() - reminder.set_at; },
        [this](Alarm) { ++report_.alarms; },
        [this](Check) {
          // A tick already sent when we cancelled (the actor was busy, or the timer thread was
          // firing it at that very moment) still arrives: cancel stops the ticks not yet sent.
          report_.ticks_after_cancel = report_.ticks - ticks_at_cancel_;
          report_to_.send(report_);
        },
        [this](GetTicks) { return report_.ticks; });
  }

 private:
  troupe::Context& self_;
  troupe::DynamicHandle report_to_;
  troupe::Timer ticker_;
  troupe::Timer alarm_;
  int ticks_at_cancel_ = 0;
  Report report_;
};

static long long ms(Clock::duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

int main() {
  troupe::System system;
  troupe::ScopedActor me(system);
  auto clockwork = system.spawn<Clockwork>();

  // System::send_after works from any thread: main() schedules the Start message itself.
  const auto start = Clock::now();
  system.send_after(clockwork, 20ms, Start{me.handle()});

  troupe::Result<Report> report = me.receive<Report>(10s);
  if (!report) {
    std::printf("FAILED: no report: %s\n", report.error().message().c_str());
    return 1;
  }
  std::printf("send_after:  the reminder set for %lld ms arrived after %lld ms\n", ms(kReminderDelay),
              ms(report->reminder_delay));
  std::printf("send_every:  %d ticks every %lld ms, then cancel() -> %s (%d tick(s) already on the way)\n",
              kTicksWanted, ms(kTickPeriod), report->ticker_cancelled ? "true" : "false", report->ticks_after_cancel);
  std::printf("cancel:      the 10 s alarm: cancel() -> %s, alarms received: %d\n",
              report->alarm_cancelled ? "true" : "false", report->alarms);

  // Every message from the timer thread arrives in the order it was sent, and Check was sent
  // after the cancelled ticker's last tick: the count the report had is final. Look again later.
  std::this_thread::sleep_for(50ms);
  troupe::Result<int> ticks = me.request(clockwork, GetTicks{});
  std::printf("50 ms later: %d ticks in all (no more after the cancel)\n", ticks.value_or(-1));

  const bool ok = report->reminder_delay >= kReminderDelay && report->ticker_cancelled && report->alarm_cancelled &&
                  report->alarms == 0 && ticks && *ticks == report->ticks;
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s (%.2f s)\n", ok ? "OK" : "FAILED: a timer misbehaved", total);
  return ok ? 0 : 1;
}
