// What a message weighs in memory, for a mailbox bounded in bytes (SpawnOptions::mailbox_bytes).
//
// A queued message holds its block (the envelope and the value, and a request's reply header)
// and whatever its value owns on the heap. The block's size is known from the type; the heap's
// is asked of the value, by heap_bytes(value), which knows:
//   - a user's own answer: `std::size_t troupe_heap_bytes(const T&)`, found by argument-dependent
//     lookup (declare it beside T), which wins over everything below;
//   - strings: their characters beyond the small-string buffer (their capacity, once on the heap);
//   - std::vector: its capacity in elements, and each element's own heap bytes;
//   - std::optional and std::unique_ptr: what they hold, and its heap bytes;
//   - a struct whose fields are listed by `troupe_wire_fields(const T*)` (as TROUPE_WIRE_MESSAGE
//     lists them for the wire): the sum over its fields;
//   - anything else: nothing (an int, a plain struct of numbers, a handle).
// A mailbox weighs a message when it is sent and again when its owner takes it, before the
// handler can move out of it; the value is the receiver's alone in between, so the two agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace troupe {

template <class T>
std::size_t heap_bytes(const T& value) noexcept;

namespace detail {

template <class T>
concept HasHeapBytesHook = requires(const T& v) {
  { troupe_heap_bytes(v) } -> std::convertible_to<std::size_t>;
};

template <class T>
concept HasListedFields = requires {
  troupe_wire_fields(static_cast<const T*>(nullptr));
};

template <class T>
struct HeapBytes {
  static std::size_t of(const T& value) noexcept {
    if constexpr (HasListedFields<T>) {
      return std::apply([&value](auto... field) { return (std::size_t{0} + ... + heap_bytes(value.*field)); },
                        troupe_wire_fields(static_cast<const T*>(nullptr)));
    } else {
      (void)value;
      return 0;
    }
  }
};

template <class C, class Traits, class A>
struct HeapBytes<std::basic_string<C, Traits, A>> {
  static std::size_t of(const std::basic_string<C, Traits, A>& s) noexcept {
    // A string in its small buffer owns no heap; one on the heap owns its whole capacity. The
    // small buffer's capacity is what an empty string reports.
    static const std::size_t small = std::basic_string<C, Traits, A>().capacity();
    return s.capacity() > small ? (s.capacity() + 1) * sizeof(C) : 0;
  }
};

template <class U, class A>
struct HeapBytes<std::vector<U, A>> {
  static std::size_t of(const std::vector<U, A>& v) noexcept {
    std::size_t bytes = v.capacity() * sizeof(U);
    if constexpr (!std::is_trivially_copyable_v<U> || HasHeapBytesHook<U> || HasListedFields<U>) {
      for (const U& element : v) bytes += heap_bytes(element);
    }
    return bytes;
  }
};

template <class A>
struct HeapBytes<std::vector<bool, A>> {
  static std::size_t of(const std::vector<bool, A>& v) noexcept { return (v.capacity() + 7) / 8; }
};

template <class U>
struct HeapBytes<std::optional<U>> {
  static std::size_t of(const std::optional<U>& o) noexcept { return o ? heap_bytes(*o) : 0; }
};

template <class U, class D>
struct HeapBytes<std::unique_ptr<U, D>> {
  static std::size_t of(const std::unique_ptr<U, D>& p) noexcept {
    if constexpr (std::is_array_v<U>) {
      return 0;  // its length is not known here: declare troupe_heap_bytes for the message
    } else {
      return p ? sizeof(U) + heap_bytes(*p) : 0;
    }
  }
};

}  // namespace detail

// The bytes `value` owns outside itself (see above).
template <class T>
std::size_t heap_bytes(const T& value) noexcept {
  if constexpr (detail::HasHeapBytesHook<T>) {
    return static_cast<std::size_t>(troupe_heap_bytes(value));
  } else {
    return detail::HeapBytes<T>::of(value);
  }
}

}  // namespace troupe
