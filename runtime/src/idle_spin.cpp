#include <troupe/runtime/idle_spin.hpp>

#include <sched.h>

namespace troupe::runtime {

// Not inline: keeps <sched.h> out of the header users include.
void IdleSpin::yield_cpu() noexcept { ::sched_yield(); }

}  // namespace troupe::runtime
