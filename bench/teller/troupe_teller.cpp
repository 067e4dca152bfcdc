// troupe-teller: a bank teller serving many clients at once, two ways. Each transfer is two
// requests from the teller to account actors (withdraw from one, deposit to the other), and a
// driver keeps 1,000 transfers in flight. Each account answers LATENCY_US after it is asked
// (default 1000: a ledger on another node, or one that writes to disk); 0 answers at once.
//   then:  the teller continues each transfer with request(...).then(...): it handles the next
//          transfer while the accounts answer, so transfers overlap;
//   await: the teller co_awaits each request: the actor waits with its coroutine, so transfers
//          are handled one at a time.
//
// Usage: troupe-teller then|await [SCALE] [LATENCY_US]
// Prints one line: `workload=teller-then latency_us=L unit=transfers/s value=N`. Money is checked to be
// conserved at the end (exit 1 if not). bench/run-teller.sh runs both and prints the ratio.
#include <troupe/troupe.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAccounts = 1000;
constexpr int kInFlight = 1000;
constexpr std::int64_t kOpeningBalance = 1000;

struct Withdraw {
  std::int64_t amount;
  using reply_type = bool;  // false: insufficient funds
};
struct Deposit {
  std::int64_t amount;
  using reply_type = bool;
};
struct Balance {
  using reply_type = std::int64_t;
};
struct Transfer {
  int from;
  int to;
  std::int64_t amount;
  using reply_type = bool;
};
struct Answer {  // an account's delayed reply to itself
  troupe::Promise<bool> reply;
  bool approved;
};
struct Start {};
struct Finished {
  std::int64_t approved;
};

// The balance changes at once; the answer goes `latency` later (through the timer thread).
auto account(troupe::Context& self, troupe::Duration latency) {
  auto balance = std::make_shared<std::int64_t>(kOpeningBalance);
  auto answer = [&self, latency](bool approved) {
    auto reply = self.promise<bool>();
    if (latency > troupe::Duration::zero()) {
      self.send_after(self.self(), latency, Answer{reply, approved});
    } else {
      reply.deliver(approved);
    }
    return reply;
  };
  return troupe::behavior(
      [balance, answer](Withdraw w) {
        const bool approved = *balance >= w.amount;
        if (approved) *balance -= w.amount;
        return answer(approved);
      },
      [balance, answer](Deposit d) {
        *balance += d.amount;
        return answer(true);
      },
      [](Answer a) { a.reply.deliver(a.approved); }, [balance](Balance) { return *balance; });
}
using Account = decltype(std::declval<troupe::System&>().spawn(account, troupe::Duration{}));
using Accounts = std::shared_ptr<const std::vector<Account>>;

// Continues each transfer on its replies: withdraw, then deposit, then answer the client.
auto teller_then(troupe::Context& self, Accounts accounts) {
  return troupe::behavior([&self, accounts](Transfer t) {
    auto reply = self.promise<bool>();
    self.request((*accounts)[t.from], Withdraw{t.amount})
        .then(
            [&self, accounts, t, reply](bool approved) mutable {
              if (!approved) return reply.deliver(false);
              self.request((*accounts)[t.to], Deposit{t.amount})
                  .then([reply](bool) mutable { reply.deliver(true); },
                        [reply](const troupe::Error& e) mutable { reply.fail(e); });
            },
            [reply](const troupe::Error& e) mutable { reply.fail(e); });
    return reply;
  });
}

// The same teller with co_await: its actor handles one transfer at a time.
auto teller_await(troupe::Context& self, Accounts accounts) {
  return troupe::behavior([&self, accounts](Transfer t) -> troupe::Task<troupe::Result<bool>> {
    auto approved = co_await self.request((*accounts)[t.from], Withdraw{t.amount});
    if (!approved) co_return approved.error();
    if (!*approved) co_return false;
    auto deposited = co_await self.request((*accounts)[t.to], Deposit{t.amount});
    if (!deposited) co_return deposited.error();
    co_return true;
  });
}

// Keeps kInFlight transfers in flight until `total` are answered, then tells `report`.
auto driver(troupe::Context& self, troupe::DynamicHandle teller, std::int64_t total, troupe::DynamicHandle report) {
  struct State {
    std::int64_t sent = 0, answered = 0, approved = 0;
    std::uint64_t rng = 88172645463325252ull;
    std::uint64_t next() {  // xorshift64: cheap, reproducible
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      return rng;
    }
  };
  auto state = std::make_shared<State>();
  auto send_one = std::make_shared<std::function<void()>>();
  *send_one = [&self, teller, total, report, state, weak = std::weak_ptr(send_one)] {
    const int from = static_cast<int>(state->next() % kAccounts);
    const int to = static_cast<int>(state->next() % kAccounts);
    const auto amount = static_cast<std::int64_t>(state->next() % 100);
    ++state->sent;
    self.request<bool>(teller, Transfer{from, to, amount}, 60s)
        .then([&self, total, report, state, weak](troupe::Result<bool> r) {
          if (!r) {
            std::fprintf(stderr, "troupe-teller: transfer failed: %s\n", r.error().message().c_str());
            std::exit(1);
          }
          state->approved += *r ? 1 : 0;
          if (++state->answered == total) return report.send(Finished{state->approved}), void();
          if (state->sent < total) (*weak.lock())();
        });
  };
  return troupe::behavior([state, total, send_one](Start) {
    for (int i = 0; i < kInFlight && state->sent < total; ++i) (*send_one)();
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string form = argc > 1 ? argv[1] : "";
  if (form != "then" && form != "await") {
    std::fprintf(stderr, "usage: troupe-teller then|await [SCALE] [LATENCY_US]\n");
    return 2;
  }
  const double scale = argc > 2 ? std::atof(argv[2]) : 1.0;
  if (!(scale > 0)) return 2;
  const long latency_us = argc > 3 ? std::atol(argv[3]) : 1000;
  if (latency_us < 0) return 2;
  const troupe::Duration latency = std::chrono::microseconds(latency_us);
  // The co_await teller does one transfer at a time: with a latency, give it fewer to do.
  const double base = form == "await" && latency_us > 0 ? 1e6 / static_cast<double>(latency_us) : 200000;
  const auto total = std::max<std::int64_t>(kInFlight, std::llround(base * scale));
  double rate = 0;
  {
    troupe::System system;
    auto accounts = std::make_shared<std::vector<Account>>();
    for (int i = 0; i < kAccounts; ++i) accounts->push_back(system.spawn(account, latency));
    troupe::DynamicHandle teller = form == "then"
                                       ? troupe::DynamicHandle(system.spawn(teller_then, Accounts(accounts)))
                                       : troupe::DynamicHandle(system.spawn(teller_await, Accounts(accounts)));
    troupe::ScopedActor me(system);
    auto d = system.spawn(driver, teller, total, me.handle());
    const auto start = Clock::now();
    d.send(Start{});
    auto finished = me.receive<Finished>(600s);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!finished) {
      std::fprintf(stderr, "troupe-teller: timed out\n");
      return 1;
    }
    std::int64_t money = 0;
    for (const auto& a : *accounts) money += me.request(a, Balance{}).value_or(-1);
    if (money != kAccounts * kOpeningBalance) {
      std::fprintf(stderr, "troupe-teller: money not conserved: %lld\n", static_cast<long long>(money));
      return 1;
    }
    std::fprintf(stderr, "troupe-teller: %s: %lld transfers (%lld approved) in %.3f s\n", form.c_str(),
                 static_cast<long long>(total), static_cast<long long>(finished->approved), seconds);
    rate = static_cast<double>(total) / seconds;
  }
  std::printf("workload=teller-%s latency_us=%ld unit=transfers/s value=%.0f\n", form.c_str(), latency_us, rate);
  return 0;
}
