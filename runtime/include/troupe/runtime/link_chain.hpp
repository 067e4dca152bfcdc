// Nodes taken out of an MpscQueue (mpsc_queue.hpp) and kept in order on one thread, linked
// through the `next` field they are now out of: no allocation. Used where a consumer pops a batch
// first and acts on it afterwards (an actor's overtaking signals, a node's ready remote actors).
#pragma once

#include <atomic>

namespace troupe::runtime {

template <class Link>
struct LinkChain {
  Link* head = nullptr;  // the oldest; walk on through next (relaxed loads)
  Link* tail = nullptr;

  // Relaxed: one thread only builds and walks a chain.
  void append(Link* link) noexcept {
    link->next.store(nullptr, std::memory_order_relaxed);
    if (tail == nullptr) {
      head = link;
    } else {
      tail->next.store(link, std::memory_order_relaxed);
    }
    tail = link;
  }
};

}  // namespace troupe::runtime
