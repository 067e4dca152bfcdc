// Who is muted on which overloaded actor (actor_core.hpp, "Overload"): a process-wide table kept
// apart from the actors, so that an actor pays no byte for it. Only actors in an overload episode
// have entries; the table is touched when a sender mutes itself and when the receiver drains.
//
// The receiver's kHoldsSenders bit (actor_core.hpp) is set and cleared under the shard's mutex,
// so it is set exactly while the receiver has entries here: a receiver with muted senders never
// parks, so no cycle of muted actors can deadlock.
//
// Ordering: the receiver clears its overloaded bit before it takes its entries, and a sender
// registers before it reads the bit again; both under the shard's mutex. Either the receiver's
// take comes after the sender's registration (it sees the entry and unmutes the sender), or the
// mutex orders the receiver's clear before the sender's second read (the sender sees the bit
// clear and withdraws). No sender stays muted on a receiver that has drained.
#pragma once

#include <troupe/runtime/actor_core.hpp>

namespace troupe::runtime::overload {

// Sender: registers `sender` (muted, holding a reference) as waiting for `receiver` to drain.
// Throws std::bad_alloc with nothing registered.
void add_muted(ActorCore* receiver, ActorCore* sender);
// Sender: takes back its own registration, if the receiver has not taken it. True if it did.
bool withdraw(ActorCore* receiver, ActorCore* sender) noexcept;
// Receiver: unmutes and drops every sender registered on it.
void release_all(ActorCore* receiver) noexcept;

}  // namespace troupe::runtime::overload
