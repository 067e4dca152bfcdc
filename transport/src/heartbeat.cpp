#include "heartbeat.hpp"

#include "kj_duration.hpp"

#include <kj/debug.h>

namespace troupe::transport::detail {

Heartbeat::Heartbeat(kj::Timer& timer, const NodeConfig& config)
    : timer_(timer),
      interval_(to_kj(config.heartbeat_interval)),
      timeout_(to_kj(config.heartbeat_timeout)),
      last_read_(timer.now()),
      last_write_(last_read_) {}

kj::Promise<void> Heartbeat::run(kj::Function<void()> beat) {
  beat_ = kj::mv(beat);
  return tick();
}

kj::Promise<void> Heartbeat::tick() {
  // Checked a few times per interval, so a quiet side sends within a quarter interval late.
  const kj::Duration tick = kj::max(kj::min(interval_, timeout_) / 4, 1 * kj::MILLISECONDS);
  return timer_.afterDelay(tick).then([this]() -> kj::Promise<void> {
    const kj::TimePoint now = timer_.now();
    if (now - last_read_ >= timeout_) return KJ_EXCEPTION(DISCONNECTED, "no heartbeat");
    if (now - last_write_ >= interval_) beat_();
    return this->tick();
  });
}

}  // namespace troupe::transport::detail
