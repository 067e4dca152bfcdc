// Must not compile, and the message must name the cause: a handler that co_awaits must declare
// that it returns troupe::Task<T>.
#include <troupe/troupe.hpp>

namespace compile_fail {
struct Ping {
  int n;
};

void spawn_proxy(troupe::System& system, troupe::Handle<int(Ping)> echo) {
  system.spawn([echo](troupe::Context& self) {
    return troupe::behavior([&self, echo](Ping p) {
      auto r = co_await self.request(echo, Ping{p.n});
      return *r;
    });
  });
}
}  // namespace compile_fail
