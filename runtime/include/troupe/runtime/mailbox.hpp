// The mailbox of one actor: an intrusive many-producer / one-consumer FIFO (mpsc_queue.hpp) whose
// empty mark tells the one producer that finds the mailbox empty to schedule its owner.
#pragma once

#include <troupe/runtime/mpsc_queue.hpp>

#include <atomic>

namespace troupe::runtime {

// The one field of a message the mailbox touches. Messages derive from it.
struct MailboxLink {
  std::atomic<MailboxLink*> next{nullptr};
};

// push() returns true when the mailbox was marked empty: the caller must schedule the owner.
// The owner pops in its turns, and calls try_mark_empty() before it stops running.
using Mailbox = MpscQueue<MailboxLink, true>;

}  // namespace troupe::runtime
