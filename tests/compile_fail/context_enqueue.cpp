// Must not compile: a handler cannot push a raw envelope into its own mailbox, or run its own
// turn; the mailbox and the turn loop belong to the actor cell, not to its Context.
#include <troupe/troupe.hpp>

namespace compile_fail {
struct Ping {
  int n;
};

void spawn_actor(troupe::System& system) {
  system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Ping p) {
      self.enqueue(troupe::make_envelope<Ping>(troupe::EnvelopeKind::message, Ping{p.n}));
      return p.n;
    });
  });
}
}  // namespace compile_fail
