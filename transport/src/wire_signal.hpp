// A signal as it crosses between two nodes (wire.capnp's Signal): the actors' Signal
// (<troupe/signals.hpp>), its handles replaced by actor ids. Its kind is the actors' kind, which
// maps one for one onto wire::SignalKind (frame_codec.hpp).
#pragma once

#include <troupe/exit_reason.hpp>
#include <troupe/signals.hpp>

#include <cstdint>

namespace troupe::transport::detail {

using SignalKind = troupe::detail::Signal::Kind;
using ExitFlags = troupe::detail::Signal::ExitFlags;

struct WireSignal {
  SignalKind kind = SignalKind::link;
  std::uint64_t from = 0;  // on the sending node (0: no actor)
  std::uint64_t to = 0;    // on the receiving node
  std::uint64_t ref = 0;   // the monitor (monitor, demonitor, down)
  ExitReason reason;       // exit, down
  ExitFlags exit_flags;    // exit
};

}  // namespace troupe::transport::detail
