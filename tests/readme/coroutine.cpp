// Wraps README blocks that run inside a coroutine handler (`self` is the actor's Context), with
// the actors they ask.
#include <troupe/troupe.hpp>

struct Quote {
  int item;
};
struct Count {
  int item;
};
struct Order {
  int item;
};

void readme_block(troupe::System& system) {
  auto prices = system.spawn([](troupe::Context&) { return troupe::behavior([](Quote) { return 9.5; }); });
  auto warehouse = system.spawn([](troupe::Context&) { return troupe::behavior([](Count) { return 3; }); });
  auto shop = system.spawn([prices, warehouse](troupe::Context& self) {
    return troupe::behavior([&self, prices, warehouse](Order order) -> troupe::Task<int> {
      const int item = order.item;
      // @README_BLOCK@
      co_return price && stock ? *stock : 0;
    });
  });
}
