// Wraps README blocks that are handlers in a behavior's list (each ends with a comma): the actor
// around them, and the names they use.
#include <troupe/troupe.hpp>

#include <memory>
#include <string>
#include <vector>

struct Get {};
struct Put {
  int n;
};
struct Watch {
  troupe::DynamicHandle worker;
};
struct Stop {};

void log(const std::string& line) { (void)line; }

void readme_block(troupe::System& system) {
  auto waiting = std::make_shared<std::vector<troupe::Promise<int>>>();
  auto actor = system.spawn([waiting](troupe::Context& self) {
    return troupe::behavior(
        // @README_BLOCK@
        [&self](Stop) { self.quit(); });
  });
}
