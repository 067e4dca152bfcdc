// One connection's heartbeats (NodeConfig::heartbeat_interval, heartbeat_timeout): when this side
// has written nothing for an interval it sends a heartbeat; when the peer has sent nothing for the
// timeout the connection fails ("no heartbeat"), and its peer is down. Heartbeats also measure the
// round trip (docs/wire.md, "Heartbeat round trip"): each carries its send time and echoes the
// last one heard from the peer with how long it was held. Transport thread only.
#pragma once

#include <troupe/transport/node.hpp>

#include <kj/async.h>
#include <kj/function.h>
#include <kj/timer.h>

#include <chrono>
#include <cstdint>
#include <optional>

namespace troupe::transport::detail {

// A heartbeat's times (wire HeartbeatTimes), in ns; 0: none.
struct HeartbeatTimes {
  std::uint64_t sent_at = 0;         // the sender's steady clock
  std::uint64_t echoed_sent_at = 0;  // the receiver's own sent_at, coming back
  std::uint64_t echo_delay = 0;      // how long the sender held that heartbeat
};

class Heartbeat {
 public:
  Heartbeat(kj::Timer& timer, const NodeConfig& config);

  void heard() { last_read_ = timer_.now(); }   // a frame arrived (any frame shows the peer alive)
  void wrote() { last_write_ = timer_.now(); }  // a frame was handed to the stream
  // Checks a few times per interval, calling `beat` when this side should send a heartbeat (it
  // skips one while a write is under way); rejects DISCONNECTED "no heartbeat" when the peer has
  // been quiet too long.
  kj::Promise<void> run(kj::Function<void()> beat);

  // The times of the heartbeat this side sends now: its send time, and the echo of the last
  // heartbeat heard (each is echoed once).
  HeartbeatTimes next_times();
  // A heartbeat arrived with `times`: its send time is kept for the echo; an echo of this side's
  // own is the round trip, returned (none for a heartbeat of a peer that sends no times, or an
  // echo that does not fit this side's clock).
  std::optional<std::chrono::nanoseconds> heard_beat(const HeartbeatTimes& times);

 private:
  kj::Promise<void> tick();

  kj::Timer& timer_;
  const kj::Duration interval_;
  const kj::Duration timeout_;
  kj::TimePoint last_read_;   // when the last frame arrived
  kj::TimePoint last_write_;  // when the last frame was handed to the stream
  kj::Function<void()> beat_;
  // The last heartbeat heard from the peer and not echoed yet: its sent_at (0: none), and when it
  // came, on this side's clock (ns).
  std::uint64_t to_echo_ = 0;
  std::uint64_t to_echo_heard_at_ = 0;
};

}  // namespace troupe::transport::detail
