// What a message weighs in memory, for a mailbox bounded in bytes (SpawnOptions::mailbox_bytes).
//
// A queued message holds its block (the envelope and the value, and a request's reply header)
// and whatever its value owns on the heap. The block's size is known from the type; the heap's
// is asked of the value, by heap_bytes(value), which knows, first match first:
//   - a user's own answer: `std::size_t troupe_heap_bytes(const T&)`, found by argument-dependent
//     lookup (declare it beside T; it must not throw);
//   - a struct whose fields are listed by `troupe_wire_fields(const T*)` (as TROUPE_WIRE_MESSAGE
//     lists them for the wire): the sum over its fields;
//   - strings: nothing while in the small-string buffer, their capacity once on the heap;
//   - std::unique_ptr and std::optional: what they hold, and its heap bytes;
//   - pairs, tuples and arrays (anything tuple-like): their elements' heap bytes;
//   - anything trivially copyable (numbers, plain structs of them, handles' ids, string_views and
//     spans, which own nothing): nothing;
//   - a vector (a range with capacity() and data()): its capacity in elements;
//   - any other sized range (deque, list, maps, sets): one node per element, the element and the
//     links a libstdc++ node carries (a tree node four words, a hash or list node two), and a hash
//     table's buckets;
//   - and for every range, each element's own heap bytes.
//   - anything else: nothing. A type the rules miss (a plain struct holding a string, say) weighs
//     its block only: list its fields, or declare troupe_heap_bytes.
// A mailbox weighs a message when it is sent and again when its owner takes it, before the
// handler can move out of it; the value is the receiver's alone in between, so the two agree.
// (Containers are recognised by their members, not named, so that this header, included with
// every message, pulls in no container headers.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

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
concept TupleLike = requires {
  std::tuple_size<T>::value;
};

template <class T>
concept SizedRange = requires(const T& c) {
  typename T::value_type;
  std::begin(c);
  std::end(c);
  c.size();
};

template <class T>
concept Contiguous = SizedRange<T> && requires(const T& c) {
  c.capacity();
  c.data();
};

template <class T>
concept Tree = SizedRange<T> && requires {
  typename T::key_compare;
};

template <class T>
concept HashTable = SizedRange<T> && requires(const T& c) {
  c.bucket_count();
};

template <class T>
concept RandomAccess = SizedRange<T> && std::random_access_iterator<typename T::const_iterator>;

// The links a node of a node-based range carries beside its element (libstdc++'s layouts).
template <class T>
constexpr std::size_t node_link_bytes() noexcept {
  if constexpr (Tree<T>) return 4 * sizeof(void*);  // colour, parent, left, right
  if constexpr (RandomAccess<T>) return 0;          // a deque: its elements in chunks
  return 2 * sizeof(void*);                         // a list's two links; a hash node's link and hash
}

template <class T>
std::size_t elements_heap_bytes(const T& c) noexcept {
  std::size_t bytes = 0;
  if constexpr (!std::is_trivially_copyable_v<typename T::value_type> || HasHeapBytesHook<typename T::value_type> ||
                HasListedFields<typename T::value_type>) {
    for (const auto& element : c) bytes += heap_bytes(element);
  }
  return bytes;
}

template <class T>
struct HeapBytes {
  static std::size_t of(const T& value) noexcept {
    if constexpr (HasListedFields<T>) {
      return std::apply([&value](auto... field) { return (std::size_t{0} + ... + heap_bytes(value.*field)); },
                        troupe_wire_fields(static_cast<const T*>(nullptr)));
    } else if constexpr (TupleLike<T>) {
      return std::apply([](const auto&... element) { return (std::size_t{0} + ... + heap_bytes(element)); }, value);
    } else if constexpr (std::is_trivially_copyable_v<T>) {
      return 0;
    } else if constexpr (Contiguous<T>) {
      return value.capacity() * sizeof(typename T::value_type) + elements_heap_bytes(value);
    } else if constexpr (SizedRange<T>) {
      std::size_t bytes = value.size() * (sizeof(typename T::value_type) + node_link_bytes<T>());
      if constexpr (HashTable<T>) bytes += value.bucket_count() * sizeof(void*);
      return bytes + elements_heap_bytes(value);
    } else {
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
