// Must not compile: a handler's Context shows only the user's verbs. The runtime's reference
// counting (release), like the rest of the actor cell, is not reachable from it.
#include <troupe/troupe.hpp>

namespace compile_fail {
struct Ping {
  int n;
};

void spawn_actor(troupe::System& system) {
  system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Ping p) {
      self.release();
      return p.n;
    });
  });
}
}  // namespace compile_fail
