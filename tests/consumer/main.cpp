// Proves an installed troupe works: find_package(troupe), link troupe::troupe, spawn an actor,
// ask it something from main() and check the answer.
#include <troupe/troupe.hpp>

#include <cstdio>
#include <string>

namespace {

struct Square {
  int n;
};

int fail(const std::string& why) {
  std::fprintf(stderr, "consumer: FAILED: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main() {
  troupe::System system;
  auto squarer = system.spawn([](troupe::Context&) {
    return troupe::behavior([](Square s) { return s.n * s.n; });
  });

  troupe::ScopedActor self(system);
  troupe::Result<int> reply = self.request(squarer, Square{12}, std::chrono::seconds(10));
  if (!reply) return fail("request failed: " + reply.error().message());
  if (*reply != 144) return fail("expected 144, got " + std::to_string(*reply));

  std::printf("consumer: OK\n");
  return 0;
}
