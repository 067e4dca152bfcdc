// One connection's heartbeats (NodeConfig::heartbeat_interval, heartbeat_timeout): when this side
// has written nothing for an interval it sends a heartbeat; when the peer has sent nothing for the
// timeout the connection fails ("no heartbeat"), and its peer is down. Transport thread only.
#pragma once

#include <troupe/transport/node.hpp>

#include <kj/async.h>
#include <kj/function.h>
#include <kj/timer.h>

namespace troupe::transport::detail {

class Heartbeat {
 public:
  Heartbeat(kj::Timer& timer, const NodeConfig& config);

  void heard() { last_read_ = timer_.now(); }   // a frame arrived (any frame shows the peer alive)
  void wrote() { last_write_ = timer_.now(); }  // a frame was handed to the stream
  // Checks a few times per interval, calling `beat` when this side should send a heartbeat (it
  // skips one while a write is under way); rejects DISCONNECTED "no heartbeat" when the peer has
  // been quiet too long.
  kj::Promise<void> run(kj::Function<void()> beat);

 private:
  kj::Promise<void> tick();

  kj::Timer& timer_;
  const kj::Duration interval_;
  const kj::Duration timeout_;
  kj::TimePoint last_read_;   // when the last frame arrived
  kj::TimePoint last_write_;  // when the last frame was handed to the stream
  kj::Function<void()> beat_;
};

}  // namespace troupe::transport::detail
