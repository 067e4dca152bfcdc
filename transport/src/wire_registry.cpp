// The table of declared wire types: by MessageType (sending) and by name (receiving).
#include <troupe/transport/wire_type.hpp>

#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace troupe::transport::detail {
namespace {

template <class T>
WireTypeInfo info_of(std::string_view name) {
  return WireTypeInfo{name, &message_type<T>, &encode_envelope<T>, &encoded_envelope_size<T>, &decode_envelope<T>};
}

struct Table {
  std::shared_mutex mutex;
  std::unordered_map<const MessageType*, WireTypeInfo> by_type;
  std::unordered_map<std::string_view, WireTypeInfo> by_name;  // names have static storage

  Table() {
    // Built in: the reply types every node understands.
    for (const WireTypeInfo& info :
         {info_of<Unit>("troupe.Unit"), info_of<Error>("troupe.Error"), info_of<std::string>("string"),
          info_of<bool>("bool"), info_of<std::int8_t>("i8"), info_of<std::uint8_t>("u8"), info_of<std::int16_t>("i16"),
          info_of<std::uint16_t>("u16"), info_of<std::int32_t>("i32"), info_of<std::uint32_t>("u32"),
          info_of<std::int64_t>("i64"), info_of<std::uint64_t>("u64"), info_of<float>("f32"), info_of<double>("f64"),
          info_of<DynamicHandle>("troupe.Handle")}) {
      by_type.emplace(info.type, info);
      by_name.emplace(info.name, info);
    }
  }
};

// Constructed on first use: declarations in other files register during static initialisation.
Table& table() {
  static Table t;
  return t;
}

}  // namespace

bool register_wire_type(const WireTypeInfo& info) noexcept {
  Table& t = table();
  std::unique_lock lock(t.mutex);
  try {
    if (auto it = t.by_name.find(info.name); it != t.by_name.end()) return it->second.type == info.type;
    if (t.by_type.contains(info.type)) return false;  // one type under two names
    t.by_type.emplace(info.type, info);
    t.by_name.emplace(info.name, info);
    return true;
  } catch (...) {
    return false;
  }
}

const WireTypeInfo* find_wire_type(const MessageType* type) noexcept {
  // Every send to a remote actor asks (RemoteActor::admit), on the sender's thread: a thread that
  // sends one type again and again finds it without touching the table's lock, whose reader count
  // would otherwise bounce between the senders' cores. Only found entries are remembered (a type
  // may be declared later), and they are never erased or moved.
  thread_local const WireTypeInfo* last = nullptr;
  if (last != nullptr && last->type == type) return last;
  Table& t = table();
  std::shared_lock lock(t.mutex);
  auto it = t.by_type.find(type);
  if (it == t.by_type.end()) return nullptr;
  last = &it->second;
  return last;
}

const WireTypeInfo* find_wire_type(std::string_view name) noexcept {
  Table& t = table();
  std::shared_lock lock(t.mutex);
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : &it->second;
}

}  // namespace troupe::transport::detail
