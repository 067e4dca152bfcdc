// Allocation for the metrics' counters, which must never fail a turn or a stop: nullptr when out
// of memory (that count is lost, not the work). Plain new, caught, not nothrow new: a program
// that replaces operator new gets its own on both sides of every allocation.
#pragma once

namespace troupe::detail {

template <class T>
T* make_or_null() noexcept {
  try {
    return new T();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace troupe::detail
