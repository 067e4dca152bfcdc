// Must not compile: a struct with fields declared for the wire with none listed would travel
// without its contents.
#include <troupe/transport/wire_type.hpp>

#include <cstdint>

namespace compile_fail {
struct Reading {
  std::int32_t celsius = 0;
};
TROUPE_WIRE_MESSAGE(Reading);
}  // namespace compile_fail
