// Wraps README blocks that gather requests inside a coroutine handler (`self` is the actor's
// Context): `replicas` are actors that answer a Quote with a price.
#include <troupe/troupe.hpp>

#include <chrono>
#include <vector>

struct Quote {
  int item;
};
struct Order {
  int item;
};

void readme_block(troupe::System& system) {
  auto replica = [](troupe::Context&) { return troupe::behavior([](Quote q) { return 9.5 + q.item; }); };
  std::vector<decltype(system.spawn(replica))> replicas;
  for (int i = 0; i < 3; ++i) replicas.push_back(system.spawn(replica));
  auto shop = system.spawn([replicas](troupe::Context& self) {
    return troupe::behavior([&self, replicas](Order order) -> troupe::Task<double> {
      const int item = order.item;
      // @README_BLOCK@
      co_return 0.0;
    });
  });
}
