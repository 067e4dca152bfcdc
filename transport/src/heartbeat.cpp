#include "heartbeat.hpp"

#include "kj_duration.hpp"

#include <kj/debug.h>

#include <utility>

namespace troupe::transport::detail {
namespace {

// The clock of the round trip: steady, and read when a heartbeat is built or heard (kj's timer
// gives the time the loop last woke, too coarse for a loopback round trip). Never 0 (0 means none).
std::uint64_t now_ns() {
  const auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count()) | 1;
}

}  // namespace

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

HeartbeatTimes Heartbeat::next_times() {
  const std::uint64_t now = now_ns();
  HeartbeatTimes times{.sent_at = now};
  if (to_echo_ != 0) {
    times.echoed_sent_at = std::exchange(to_echo_, 0);
    times.echo_delay = now - to_echo_heard_at_;
  }
  return times;
}

std::optional<std::chrono::nanoseconds> Heartbeat::heard_beat(const HeartbeatTimes& times) {
  const std::uint64_t now = now_ns();
  if (times.sent_at != 0) {
    to_echo_ = times.sent_at;
    to_echo_heard_at_ = now;
  }
  // An echo must be of a time this side's clock has passed, held for less than it has been away.
  if (times.echoed_sent_at == 0 || times.echoed_sent_at > now) return std::nullopt;
  const std::uint64_t away = now - times.echoed_sent_at;
  if (times.echo_delay >= away) return std::nullopt;
  return std::chrono::nanoseconds(away - times.echo_delay);
}

}  // namespace troupe::transport::detail
