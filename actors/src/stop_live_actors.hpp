// Steps 3 and 4 of System::shutdown (system.cpp): every live actor gets one stop signal, and
// shutdown waits until none is live, saying which actors it waits for when that takes long.
#pragma once

#include <troupe/system.hpp>

namespace troupe::detail {

void stop_live_actors(System::Internals& in);

}  // namespace troupe::detail
