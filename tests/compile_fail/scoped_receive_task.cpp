// Must not compile, and the message must name the cause: ScopedActor::receive runs a behavior's
// handler on the calling thread, where a coroutine handler (one that returns Task) cannot run.
#include <troupe/troupe.hpp>

namespace compile_fail {
struct Ping {
  int n;
};

void receive_with_task(troupe::ScopedActor& me) {
  (void)me.receive(troupe::behavior([](Ping p) -> troupe::Task<int> { co_return p.n; }));
}
}  // namespace compile_fail
