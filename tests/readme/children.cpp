// Wraps README blocks that manage a running supervisor's children: from a thread (`me`) and from
// inside an actor (`self`, in a coroutine handler).
#include <troupe/troupe.hpp>

struct Tick {};

class Cache {
 public:
  Cache(troupe::Context&, int entries) : entries_(entries) {}
  auto behavior() {
    return troupe::behavior([this](Tick) { return entries_; });
  }

 private:
  int entries_;
};

void readme_block(troupe::System& system, troupe::ScopedActor& me) {
  auto root = system.spawn_supervisor(troupe::SupervisorSpec{}, {});
  auto actor = system.spawn([&me, root](troupe::Context& self) {
    return troupe::behavior([&self, &me, root](Tick) -> troupe::Task<int> {
      // @README_BLOCK@
      co_return 0;
    });
  });
}
