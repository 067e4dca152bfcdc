// actors: troupe. Nothing is shared: every piece of state belongs to one actor and changes only in
// that actor's handlers, one message at a time, while the system's workers run many actors at once.
//  - cpu: one actor per value computes its sum and sends it back.
//  - counter: the counter is an actor; K sender actors send it C Increment messages each. Each
//    sender sends a batch, then a Checkpoint; the counter answers Continue, and only then comes
//    the next batch — flow control, so no mailbox grows beyond one batch per sender.
//  - bank: each account is an actor; a transfer is a Withdraw to the payer, which forwards a
//    Deposit to the payee or refuses; either way the teller that asked hears back, and keeps at
//    most one window of transfers in flight. No locks, and no transfer can deadlock.
//  - io: in model_actors_io.cpp; hog: in model_actors_hog.cpp.
#include <troupe/troupe.hpp>

#include <chrono>
#include <vector>

#include "model_actors_hog.hpp"
#include "model_actors_io.hpp"
#include "models.hpp"

namespace contrast {

namespace {

constexpr auto kPatience = std::chrono::hours(1);  // a failure bound, never reached when all is well

troupe::Config system_config(const Params& p) {
  troupe::Config config;
  config.workers = p.workers;
  return config;
}

// --- cpu ------------------------------------------------------------------------------------------
struct Compute {
  std::uint64_t n;
  troupe::DynamicHandle reply_to;
};
struct Partial {
  u128 sum;
};

auto square_summer(troupe::Context& self) {
  return troupe::behavior([&self](const Compute& job) {
    job.reply_to.send(Partial{sum_of_squares(job.n)});
    self.quit();
  });
}

Outcome cpu(const Params& p) {
  troupe::System system(system_config(p));
  troupe::ScopedActor me(system);
  for (unsigned k = 0; k < kCpuValues; ++k) system.spawn(square_summer).send(Compute{p.cpu_first + k, me.handle()});
  u128 total = 0;
  for (unsigned k = 0; k < kCpuValues; ++k) {
    troupe::Result<Partial> partial = me.receive<Partial>(kPatience);
    if (!partial) return failure("no result: " + partial.error().message());
    total += partial->sum;
  }
  return check_cpu(p, total);
}

// --- counter --------------------------------------------------------------------------------------
constexpr std::uint64_t kBatch = 1000;  // increments (or transfers) a sender has in flight at most

struct Increment {};
struct Checkpoint {  // sender -> counter, after a batch: "tell me when you have it all"
  troupe::DynamicHandle sender;
  bool last;
};
struct Continue {};  // counter -> sender
struct Count {       // counter -> main, when every sender is done
  std::uint64_t value;
};

class CounterActor {
 public:
  CounterActor(unsigned senders, troupe::DynamicHandle reply_to) : senders_(senders), reply_to_(std::move(reply_to)) {}

  auto behavior() {
    return troupe::behavior([this](Increment) { ++count_; },
                            [this](const Checkpoint& c) {
                              if (!c.last) {
                                c.sender.send(Continue{});
                              } else if (++finished_ == senders_) {
                                reply_to_.send(Count{count_});
                              }
                            });
  }

 private:
  unsigned senders_;
  troupe::DynamicHandle reply_to_;
  std::uint64_t count_ = 0;
  unsigned finished_ = 0;
};

Outcome counter(const Params& p) {
  troupe::System system(system_config(p));
  troupe::ScopedActor me(system);
  troupe::DynamicHandle counter = system.spawn<CounterActor>(p.counter_workers, me.handle());
  for (unsigned s = 0; s < p.counter_workers; ++s) {
    auto sender = system.spawn([counter, total = p.counter_increments](troupe::Context& self) {
      return troupe::behavior([&self, counter, total, sent = std::uint64_t{0}](Continue) mutable {
        const std::uint64_t batch = std::min(kBatch, total - sent);
        for (std::uint64_t i = 0; i < batch; ++i) counter.send(Increment{});
        sent += batch;
        counter.send(Checkpoint{self.self(), sent == total});  // after the batch: same sender, in order
        if (sent == total) self.quit();
      });
    });
    sender.send(Continue{});  // start
  }
  troupe::Result<Count> count = me.receive<Count>(kPatience);
  if (!count) return failure("no count: " + count.error().message());
  return check_counter(p, count->value);
}

// --- bank -----------------------------------------------------------------------------------------
struct Withdraw {  // teller -> payer
  std::uint64_t amount;
  troupe::DynamicHandle payee;
  troupe::DynamicHandle teller;
};
struct Deposit {  // payer -> payee
  std::uint64_t amount;
  troupe::DynamicHandle teller;
};
struct Settled {  // payee (or a refusing payer) -> teller
  bool applied;
};
struct GetBalance {
  using reply_type = std::uint64_t;
};
struct TellerDone {  // teller -> main
  std::uint64_t applied;
};

class Account {
 public:
  explicit Account(std::uint64_t initial) : balance_(initial) {}
  auto behavior() {
    return troupe::behavior(
        [this](const Withdraw& w) {
          if (balance_ < w.amount) {  // refused
            w.teller.send(Settled{false});
            return;
          }
          balance_ -= w.amount;
          w.payee.send(Deposit{w.amount, w.teller});
        },
        [this](const Deposit& d) {
          balance_ += d.amount;
          d.teller.send(Settled{true});
        },
        [this](GetBalance) { return balance_; });
  }

 private:
  std::uint64_t balance_;
};

class Teller {
 public:
  Teller(troupe::Context& self, const Params& p, unsigned index, std::vector<troupe::DynamicHandle> accounts,
         troupe::DynamicHandle reply_to)
      : self_(self), stream_(p, index), total_(p.bank_transfers), accounts_(std::move(accounts)),
        reply_to_(std::move(reply_to)) {}

  auto behavior() {
    return troupe::behavior([this](Continue) { send_batch(); },
                            [this](Settled s) {
                              applied_ += s.applied ? 1 : 0;
                              if (--in_flight_ > 0) return;
                              if (issued_ < total_) return send_batch();
                              reply_to_.send(TellerDone{applied_});
                              self_.quit();
                            });
  }

 private:
  void send_batch() {
    const std::uint64_t batch = std::min(kBatch, total_ - issued_);
    if (batch == 0) {  // no transfers at all
      reply_to_.send(TellerDone{0});
      return self_.quit();
    }
    for (std::uint64_t i = 0; i < batch; ++i) {
      const Transfer t = stream_.next();
      accounts_[t.from].send(Withdraw{t.amount, accounts_[t.to], self_.self()});
    }
    issued_ += batch;
    in_flight_ = batch;
  }

  troupe::Context& self_;
  TransferStream stream_;
  std::uint64_t total_;
  std::vector<troupe::DynamicHandle> accounts_;
  troupe::DynamicHandle reply_to_;
  std::uint64_t issued_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint64_t applied_ = 0;
};

Outcome bank(const Params& p) {
  troupe::System system(system_config(p));
  troupe::ScopedActor me(system);
  std::vector<troupe::DynamicHandle> accounts;
  for (unsigned a = 0; a < p.bank_accounts; ++a) accounts.push_back(system.spawn<Account>(p.bank_initial));
  for (unsigned t = 0; t < p.bank_workers; ++t) {
    system.spawn<Teller>(p, t, accounts, me.handle()).send(Continue{});
  }
  std::uint64_t applied = 0;
  for (unsigned t = 0; t < p.bank_workers; ++t) {
    troupe::Result<TellerDone> done = me.receive<TellerDone>(kPatience);
    if (!done) return failure("a teller did not finish: " + done.error().message());
    applied += done->applied;
  }
  // Every transfer has settled (each teller heard back about all of its own), so no money is in
  // flight: the balances must add up.
  std::uint64_t total = 0;
  for (const troupe::DynamicHandle& a : accounts) {
    troupe::Result<std::uint64_t> balance = me.request(a, GetBalance{});
    if (!balance) return failure("no balance: " + balance.error().message());
    total += *balance;
  }
  return check_bank(p, total, applied);
}

}  // namespace

std::optional<Outcome> run_actors(Workload w, const Params& p) {
  switch (w) {
    case Workload::cpu: return cpu(p);
    case Workload::counter: return counter(p);
    case Workload::bank: return bank(p);
    case Workload::io: return run_actors_io(p);
    case Workload::hog: return run_actors_hog(p, true);
  }
  return std::nullopt;
}

}  // namespace contrast
