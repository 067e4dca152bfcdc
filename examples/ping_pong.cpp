// ping_pong: two actors bounce a counter back and forth, and we measure messages per second.
//
//   usage: ping_pong [messages]      (default 1,000,000)
//
// Each message is one hop of the ball: the receiver adds one to the counter and sends the ball
// back, until the counter reaches the limit. Nothing is shared: each player knows only its
// partner's handle. This is the classic measure of an actor runtime's raw messaging cost: every
// hop is a pooled allocation, a push onto a lock-free mailbox, scheduling the receiver, and a
// handler call.
#include <troupe/troupe.hpp>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

struct Ball {
  std::uint64_t hits;  // how many times the ball has been sent so far
};
struct GameOver {
  std::uint64_t hits;
};

// A class actor: constructed on the actor's first turn (with the actor's Context, when the
// constructor takes one), and its behavior() returns the handlers. Handlers capture `this`: the
// object lives, at a fixed address, exactly as long as the actor.
class Player {
 public:
  Player(troupe::Context& self, troupe::DynamicHandle partner, troupe::DynamicHandle referee, std::uint64_t limit);

  auto behavior() {
    return troupe::behavior([this](Ball ball) {
      if (ball.hits >= limit_) {
        referee_.send(GameOver{ball.hits});  // whoever receives the last hit reports it
        return;
      }
      partner_.send(Ball{ball.hits + 1});
    });
  }

 private:
  troupe::DynamicHandle partner_;
  troupe::DynamicHandle referee_;
  std::uint64_t limit_;
};

// The first player has no partner yet; it spawns one that plays back to it. (Handles come from
// spawn, so of two actors that need each other, one must create the other.) Defined after the
// class: spawn<Player> needs behavior()'s return type, deduced only once its body has been seen.
Player::Player(troupe::Context& self, troupe::DynamicHandle partner, troupe::DynamicHandle referee, std::uint64_t limit)
    : partner_(std::move(partner)), referee_(std::move(referee)), limit_(limit) {
  if (!partner_) partner_ = self.spawn<Player>(self.self(), referee_, limit_);
}

static std::string with_commas(std::uint64_t value) {
  std::string reversed;  // digits from the last, with a comma before every third
  for (int digits = 0; digits == 0 || value != 0; ++digits, value /= 10) {
    if (digits > 0 && digits % 3 == 0) reversed += ',';
    reversed += static_cast<char>('0' + static_cast<int>(value % 10));
  }
  return {reversed.rbegin(), reversed.rend()};
}

int main(int argc, char** argv) {
  const std::uint64_t messages = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  if (messages == 0) {
    std::fprintf(stderr, "usage: %s [messages > 0]\n", argv[0]);
    return 2;
  }

  troupe::System system;
  troupe::ScopedActor me(system);  // main() is the referee: the player with the last hit tells it

  auto ping = system.spawn<Player>(troupe::DynamicHandle{}, me.handle(), messages);
  const auto start = std::chrono::steady_clock::now();
  ping.send(Ball{0});  // the serve; ping sends hit 1 to pong, pong sends hit 2 back, ...

  troupe::Result<GameOver> over = me.receive<GameOver>(std::chrono::minutes(10));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!over) {
    std::printf("FAILED: no result: %s\n", over.error().message().c_str());
    return 1;
  }

  std::printf("ping-pong: 2 actors on %u workers bounced a counter %s times\n", system.worker_count(),
              with_commas(over->hits).c_str());
  std::printf("  %s messages in %.3f s = %.2f M msgs/s (%.0f ns per message)\n", with_commas(over->hits).c_str(),
              seconds, static_cast<double>(over->hits) / seconds / 1e6,
              seconds * 1e9 / static_cast<double>(over->hits));
  const bool ok = over->hits == messages;
  if (ok) {
    std::printf("OK: the counter arrived at exactly %s\n", with_commas(messages).c_str());
  } else {
    std::printf("FAILED: the counter is %" PRIu64 ", expected %" PRIu64 "\n", over->hits, messages);
  }
  return ok ? 0 : 1;
}
