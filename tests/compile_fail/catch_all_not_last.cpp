// Must not compile, and the message must name the cause: troupe::others(...), the catch-all, takes
// every message, so a handler after it could never run.
#include <troupe/troupe.hpp>

namespace compile_fail {
struct Ping {
  int n;
};

void spawn_actor(troupe::System& system) {
  system.spawn([](troupe::Context&) {
    return troupe::behavior(troupe::others([](troupe::AnyMessage&) {}), [](Ping p) { return p.n; });
  });
}
}  // namespace compile_fail
