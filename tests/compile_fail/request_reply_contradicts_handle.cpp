// Must not compile: the typed handle says its actor answers Get with an int, and the request
// names std::string (at run time this would only be Errc::unexpected_reply).
#include <troupe/troupe.hpp>

#include <string>

namespace compile_fail {
struct Get {};

void ask(troupe::ScopedActor& me, troupe::Handle<int(Get)> counter) {
  auto r = me.request<std::string>(counter, Get{});
  (void)r;
}
}  // namespace compile_fail
