// Shared by the registry tests: a service that knows its id, an exit counter, and numbered names.
#pragma once

#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace registry_test {

using namespace troupe_test;

struct WhoAreYou {};  // reply: the service's id
struct Stop {};
struct Boom {};

// A service that knows its id, and stops or fails on demand.
inline auto service(troupe::Context& self, int id) {
  return troupe::behavior([id](WhoAreYou) { return id; }, [&self](Stop) { self.quit(); },
                          [](Boom) { throw std::runtime_error("boom"); });
}

// Counts actor exits (the hook runs after the registry has dropped the actor's names).
struct ExitCounter {
  std::atomic<int> exits{0};
  troupe::Config config(unsigned workers = 2) {
    troupe::Config c{.workers = workers};
    c.on_actor_exit = [this](const troupe::ExitInfo&) { exits.fetch_add(1); };
    return c;
  }
  // Spins (yielding) until `n` actors have exited, or 10 s pass.
  bool wait_for(int n) {
    const auto deadline = Clock::now() + 10s;
    while (exits.load() < n) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
};

// "<prefix><i>". (Not `"prefix" + std::to_string(i)`: GCC 12 warns falsely on it, -Wrestrict.)
inline std::string numbered(std::string_view prefix, int i) {
  std::string name(prefix);
  name += std::to_string(i);
  return name;
}

}  // namespace registry_test
