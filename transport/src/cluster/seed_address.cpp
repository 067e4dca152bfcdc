#include "membership.hpp"

#include <stdexcept>

namespace troupe::transport::detail {

SeedAddress parse_seed(const std::string& text) {
  auto bad = [&text](const char* why) {
    return std::invalid_argument("troupe: seed '" + text + "' is not [NAME@]HOST:PORT: " + why);
  };
  SeedAddress seed;
  std::string rest = text;
  if (const auto at = rest.find('@'); at != std::string::npos) {
    seed.name = rest.substr(0, at);
    if (seed.name.empty()) throw bad("the name before '@' is empty");
    rest = rest.substr(at + 1);
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size()) throw bad("no port");
  seed.host = rest.substr(0, colon);
  if (seed.host.size() >= 2 && seed.host.front() == '[' && seed.host.back() == ']') {
    seed.host = seed.host.substr(1, seed.host.size() - 2);  // [::1]:7000
  }
  if (seed.host.empty()) throw bad("no host");
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(rest.substr(colon + 1), &used);
    if (used != rest.size() - colon - 1) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    throw bad("the port is not a number");
  }
  if (port == 0 || port > 65535) throw bad("the port is not between 1 and 65535");
  seed.port = static_cast<std::uint16_t>(port);
  return seed;
}

}  // namespace troupe::transport::detail
