// event-loop: asyncio's model. One thread runs one kj event loop; each task is a coroutine on it
// (event_loop.hpp) that runs until it awaits, cooperatively. State is shared freely — only one
// task runs at a time, and a task is never interrupted between two awaits — so no lock anywhere.
//  - cpu: one task per value; none awaits, so they run one after another on the one thread: no
//    faster than sequential, whatever the cores (as asyncio: CPU-bound work gains nothing).
//  - counter and bank: one task per worker (teller); each yields to the others after every batch
//    of 10,000 steps (asyncio.sleep(0)), so they interleave, and nothing needs a lock.
//  - io: io_concurrency tasks, each with its own kj async connection, requests striped over them
//    as the actors' clients do: a task awaits its answer while the others send theirs.
//  - hog: each ticking task awaits a timer per tick; each hog awaits the start of each burst, then
//    computes without awaiting — and nothing else runs on the loop until it is done (the hogs
//    themselves one after another).
#include <kj/async-io.h>

#include <string>
#include <vector>

#include "event_loop.hpp"
#include "hog.hpp"
#include "models.hpp"
#include "tracing.hpp"

namespace contrast {

namespace {

using Task = EventLoop::Task;

// --- cpu ------------------------------------------------------------------------------------------
Task sum_task(std::uint64_t n, u128& total) {
  total += sum_of_squares(n);
  co_return;
}

Outcome cpu(const Params& p) {
  EventLoop loop;
  u128 total = 0;
  for (unsigned k = 0; k < kCpuValues; ++k) loop.spawn(sum_task(p.cpu_first + k, total));
  loop.run();
  return check_cpu(p, total);
}

// --- counter --------------------------------------------------------------------------------------
Task increment_task(std::uint64_t increments, std::uint64_t& count) {
  for (std::uint64_t done = 0; done < increments;) {
    const std::uint64_t end = std::min(increments, done + kSpanBatch);
    for (; done < end; ++done) count = opaque(count) + 1;
    co_await EventLoop::yield();  // let the other tasks have their turn
  }
}

Outcome counter(const Params& p) {
  EventLoop loop;
  std::uint64_t count = 0;  // shared by every task: one thread, no lock
  for (unsigned w = 0; w < p.counter_workers; ++w) loop.spawn(increment_task(p.counter_increments, count));
  loop.run();
  return check_counter(p, count);
}

// --- bank -----------------------------------------------------------------------------------------
struct Bank {
  std::vector<std::uint64_t> balance;
  std::uint64_t applied = 0;
};

Task teller_task(const Params& p, unsigned teller, Bank& bank) {
  TransferStream stream(p, teller);
  for (std::uint64_t done = 0; done < p.bank_transfers;) {
    const std::uint64_t end = std::min(p.bank_transfers, done + kSpanBatch);
    for (; done < end; ++done) {
      const Transfer t = stream.next();
      if (bank.balance[t.from] < t.amount) continue;  // refused
      bank.balance[t.from] -= t.amount;
      bank.balance[t.to] += t.amount;
      ++bank.applied;
    }
    co_await EventLoop::yield();
  }
}

Outcome bank(const Params& p) {
  EventLoop loop;
  Bank bank{std::vector<std::uint64_t>(p.bank_accounts, p.bank_initial), 0};
  for (unsigned t = 0; t < p.bank_workers; ++t) loop.spawn(teller_task(p, t, bank));
  loop.run();
  std::uint64_t total = 0;
  for (std::uint64_t b : bank.balance) total += b;
  return check_bank(p, total, bank.applied);
}

// --- io -------------------------------------------------------------------------------------------
struct IoTally {
  std::uint64_t answered = 0;
  std::uint64_t wrong = 0;
  std::string error;
};

// Client `index` of `clients` asks requests index, index + clients, ... one at a time.
Task io_client(EventLoop& loop, const Params& p, unsigned index, unsigned clients, IoTally& tally) {
  kj::Own<kj::NetworkAddress> address = co_await loop.io().getNetwork().parseAddress("127.0.0.1", p.io_port);
  kj::Own<kj::AsyncIoStream> stream = co_await address->connect();
  kj::byte bytes[8];
  for (std::uint64_t r = index; r < p.io_requests; r += clients) {
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<kj::byte>(r >> (8 * i));
    co_await stream->write(bytes, 8);
    const std::size_t n = co_await stream->tryRead(bytes, 8, 8);
    if (n < 8) {
      tally.error = "closed by the server";
      co_return;
    }
    std::uint64_t answer = 0;
    for (int i = 0; i < 8; ++i) answer |= std::uint64_t{bytes[i]} << (8 * i);
    ++tally.answered;
    if (answer != io_answer(r)) ++tally.wrong;
  }
}

Outcome io(const Params& p) {
  EventLoop loop;
  IoTally tally;
  const unsigned clients = static_cast<unsigned>(std::min<std::uint64_t>(p.io_concurrency, p.io_requests));
  for (unsigned c = 0; c < clients; ++c) loop.spawn(io_client(loop, p, c, clients, tally));
  try {
    loop.run();
  } catch (const std::exception& e) {
    tally.error = e.what();
  }
  Outcome outcome = check_io(p, tally.answered, tally.wrong);
  if (!tally.error.empty()) outcome.detail += " (" + tally.error + ")";
  return outcome;
}

// --- hog ------------------------------------------------------------------------------------------
// kj's timers read CLOCK_MONOTONIC, as std::chrono::steady_clock does on Linux: the same instant.
kj::TimePoint kj_time(HogClock::time_point t) {
  return kj::origin<kj::TimePoint>() +
         std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() * kj::NANOSECONDS;
}

Task ticker(EventLoop& loop, const HogPlan& plan, HogClock::time_point start, LatenessSamples& samples) {
  for (std::uint64_t k = 0; k < plan.ticks_per_task; ++k) {
    const HogClock::time_point due = start + plan.tick_due(k);
    co_await loop.timer().atTime(kj_time(due));
    samples.push_back(lateness_ns(due, HogClock::now()));
  }
}

Task hog(EventLoop& loop, const HogPlan& plan, HogClock::time_point start) {
  for (unsigned i = 0; i < plan.bursts; ++i) {
    co_await loop.timer().atTime(kj_time(start + plan.burst_start(i)));
    hog_compute(plan.burst, [] {});  // no await inside: the loop is held
  }
}

Outcome hog_workload(const Params& p) {
  const HogPlan plan(p);
  EventLoop loop;
  LatenessSamples samples;  // every task's, one thread: no lock
  samples.reserve(plan.expected_ticks());
  const HogClock::time_point start = HogClock::now();
  for (unsigned t = 0; t < plan.tasks; ++t) loop.spawn(ticker(loop, plan, start, samples));
  for (unsigned h = 0; h < plan.hogs; ++h) loop.spawn(hog(loop, plan, start));
  loop.run();
  return check_hog(p, samples);
}

}  // namespace

std::optional<Outcome> run_event_loop(Workload w, const Params& p) {
  switch (w) {
    case Workload::cpu:
      return cpu(p);
    case Workload::counter:
      return counter(p);
    case Workload::bank:
      return bank(p);
    case Workload::io:
      return io(p);
    case Workload::hog:
      return hog_workload(p);
  }
  return std::nullopt;
}

}  // namespace contrast
