// Room an actor's turn reserved ahead in one bounded (backpressure) mailbox (bounded_send.cpp):
// a flood from one actor adds to the mailbox's count once per batch, not once per message, so the
// count's cache line stays with the receiver. Per thread, for the length of a turn: the turn's end
// gives back what is left (settle_send_credits), as if it were handled, so no room stays reserved
// by an actor that no longer runs.
#pragma once

#include <troupe/runtime/actor_core.hpp>

#include <cstdint>

namespace troupe::detail {

struct SendCredits {
  runtime::ActorCore* target = nullptr;  // holds a reference while credits are held
  std::uint32_t left = 0;
  // The bounded mailbox this thread's last counted send went to (compared only, never followed):
  // a batch is reserved only for a second send in a row to the same one, so that a producer that
  // goes round many receivers (a fan-out) counts each message once rather than a batch each.
  const runtime::ActorCore* last_counted = nullptr;
};
// constinit: no dynamic initialisation, so other files read it without a TLS wrapper call.
extern constinit thread_local SendCredits tls_send_credits;

void settle_send_credits_held() noexcept;

// At the end of every turn (the turn's TurnScope): one thread-local test when nothing is held.
inline void settle_send_credits() noexcept {
  if (tls_send_credits.target != nullptr) [[unlikely]]
    settle_send_credits_held();
}

}  // namespace troupe::detail
