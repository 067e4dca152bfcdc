// counter: the race-free counter. Many client actors add to one count at the same time, and the
// total is exact, every run, with no lock and no atomic in sight.
//
//   usage: counter [clients] [increments per client]      (default 8 x 100,000)
//
// The contrast. With threads and a plain shared `int count`, each thread's `++count` is three
// steps: read the count, add one, write it back. Two threads can both read 41 and both write 42,
// and one increment is lost. With 8 threads x 100,000 increments the total comes out short, by a
// different amount each run (and in C++ the data race is undefined behaviour besides). The usual
// cures have their own prices: a mutex serialises the threads (contention, deadlocks, and the race
// comes back the day someone forgets to lock), an atomic works only for what fits in one.
//
// The actor way. The count belongs to one actor and no one else can reach it: clients can only
// send it messages. The actor handles its messages one at a time, so each increment is a whole
// read-add-write with nobody in between. Isolation by construction; the clients still run in
// parallel on every core, and the mailbox (one atomic exchange per message) orders their updates.
#include <troupe/troupe.hpp>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

struct Increment {};
struct GetCount {};

// The counter: its state is a plain integer, touched only by its own handlers.
class Counter {
 public:
  auto behavior() {
    return troupe::behavior([this](Increment) { ++count_; },       // one-way
                            [this](GetCount) { return count_; });  // a request: replies the count
  }

 private:
  std::uint64_t count_ = 0;
};
// The typed handle spawn<Counter>() returns: one signature per handler, reply(message).
using CounterHandle = troupe::Handle<void(Increment), std::uint64_t(GetCount)>;

struct Go {};
struct Finished {
  unsigned client;
};

// A client: on Go it sends its increments, as fast as it can, then says it has finished.
auto client(troupe::Context&, CounterHandle counter, troupe::DynamicHandle report_to, unsigned id,
            std::uint64_t increments) {
  return troupe::behavior([=](Go) {
    for (std::uint64_t i = 0; i < increments; ++i) counter.send(Increment{});
    report_to.send(Finished{id});
  });
}

int main(int argc, char** argv) {
  const unsigned clients = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 8;
  const std::uint64_t increments = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100'000;
  if (clients == 0) {
    std::fprintf(stderr, "usage: %s [clients > 0] [increments per client]\n", argv[0]);
    return 2;
  }

  troupe::System system;
  troupe::ScopedActor me(system);
  CounterHandle counter = system.spawn<Counter>();

  const auto start = std::chrono::steady_clock::now();
  for (unsigned id = 0; id < clients; ++id) system.spawn(client, counter, me.handle(), id, increments).send(Go{});

  // Wait until every client has sent all its increments...
  for (unsigned done = 0; done < clients; ++done) {
    if (!me.receive<Finished>(std::chrono::minutes(5))) {
      std::printf("FAILED: only %u of %u clients finished\n", done, clients);
      return 1;
    }
  }
  // ...then ask for the count. Each client sent its increments before its Finished, and we send
  // GetCount after the last Finished, so GetCount queues behind every increment in the counter's
  // mailbox: the reply is the final count.
  troupe::Result<std::uint64_t> count = me.request(counter, GetCount{});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!count) {
    std::printf("FAILED: %s\n", count.error().message().c_str());
    return 1;
  }

  const std::uint64_t expected = clients * increments;
  std::printf("%u client actors x %" PRIu64 " increments each, one counter actor, %u workers\n", clients, increments,
              system.worker_count());
  const std::uint64_t lost = expected > *count ? expected - *count : 0;
  std::printf("  final count: %" PRIu64 " (expected %" PRIu64 ", lost %" PRIu64 ") in %.3f s\n", *count, expected, lost,
              seconds);
  const bool ok = *count == expected;
  std::printf("%s\n", ok ? "OK: not one update lost" : "FAILED: the count is wrong");
  return ok ? 0 : 1;
}
