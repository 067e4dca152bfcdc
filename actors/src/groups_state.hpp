// Internal to groups.cpp and group_origins.cpp: the process groups' table and the events it owes
// its watchers (how they are locked and ordered: the top of groups.cpp).
#pragma once

#include <troupe/group_origins.hpp>
#include <troupe/groups.hpp>
#include <troupe/system.hpp>

#include "live_set.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace troupe {

namespace detail::group_table {

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const noexcept { return std::hash<std::string_view>{}(name); }
};

constexpr std::size_t kShards = 16;

struct Member {
  DynamicHandle handle;
  std::string origin;  // empty: an actor of this system
};

struct Group {
  std::vector<Member> members;
  std::vector<DynamicHandle> watchers;
};

// What a local actor holds: one name per join, one per monitor.
struct Owned {
  std::vector<std::string> joined;
  std::vector<std::string> watched;
};

struct Event {
  enum class Kind : std::uint8_t { snapshot, joined, left };
  Kind kind;
  bool local;  // a change of this system's members: the observer hears of it
  std::string group;
  std::vector<DynamicHandle> who;
  std::vector<DynamicHandle> to;  // the watchers when it happened
};

template <class T, class U>
bool erase_one(std::vector<T>& v, const U& x) {
  auto it = std::find(v.begin(), v.end(), x);
  if (it == v.end()) return false;
  v.erase(it);
  return true;
}

}  // namespace detail::group_table

struct Groups::State {
  using Member = detail::group_table::Member;
  using Group = detail::group_table::Group;
  using Owned = detail::group_table::Owned;
  using Event = detail::group_table::Event;

  struct alignas(64) Count {
    // Entries (memberships and monitors) of this shard's actors, plus joins and monitors in
    // progress. Only a hint for drop_all's fast path; see the uses for why relaxed suffices.
    std::atomic<std::size_t> n{0};
  };

  State(System& s, detail::LiveSet& l) : system(s), live(l) {}

  std::atomic<std::size_t>& count(const runtime::ActorCore* actor) noexcept {
    return counts[(reinterpret_cast<std::uintptr_t>(actor) >> 6) % detail::group_table::kShards].n;
  }

  // The cell behind `h` when it is one of this system's actors (live or not), else nullptr.
  detail::ActorCell* cell_of(const DynamicHandle& h) const noexcept {
    if (!h.valid()) return nullptr;
    auto* cell = dynamic_cast<detail::ActorCell*>(h.core());
    return cell != nullptr && &cell->system() == &system ? cell : nullptr;
  }

  using Table = std::unordered_map<std::string, Group, detail::group_table::NameHash, std::equal_to<>>;

  // Under the mutex: forgets a group with no members and no watchers.
  void forget_if_empty(Table::iterator it) {
    if (it->second.members.empty() && it->second.watchers.empty()) table.erase(it);
  }

  // Under the mutex, for a new entry of local actor `cell` in group `it`: `prepare` reserves room
  // and builds the event, and the event is queued. If any of it throws (no memory), the table is
  // left as it was and the exception goes on; otherwise the caller's push_backs cannot throw.
  template <class Prepare>
  void reserve_entry(Table::iterator it, runtime::ActorCore* cell, Prepare&& prepare) {
    try {
      Owned& owned = this->owned[cell];
      outbox.push_back(prepare(it->second, owned));
    } catch (...) {
      auto o = this->owned.find(cell);
      if (o != this->owned.end() && o->second.joined.empty() && o->second.watched.empty()) this->owned.erase(o);
      forget_if_empty(it);
      throw;
    }
  }

  // Sends the queued events unless another thread is at it (see the top of the file). Returns
  // with `lock` released.
  void deliver(std::unique_lock<std::mutex>& lock) noexcept {
    if (delivering) return lock.unlock();
    delivering = true;
    while (!outbox.empty()) {
      std::vector<Event> batch;
      batch.swap(outbox);
      detail::GroupObserver* obs = observer;
      lock.unlock();
      for (Event& e : batch) send(e, obs);
      batch.clear();  // the handles' references go outside the mutex
      lock.lock();
    }
    delivering = false;
    lock.unlock();
    delivered.notify_all();  // GroupOrigins::set_observer may wait for the old observer's last call
  }

  void send(Event& e, detail::GroupObserver* obs) noexcept {
    try {
      if (obs != nullptr && e.local) {
        for (const DynamicHandle& h : e.who) {
          if (e.kind == Event::Kind::joined) obs->local_joined(e.group, h);
          if (e.kind == Event::Kind::left) obs->local_left(e.group, h);
        }
      }
    } catch (...) {  // a throwing observer must not stop the watchers' events
    }
    // Once shutdown has begun every watcher stops at its next turn without reading its mailbox:
    // the events would only be dead letters.
    if (system.stopping()) return;
    for (std::size_t i = 0; i < e.to.size(); ++i) {
      const bool last = i + 1 == e.to.size();
      try {
        std::vector<DynamicHandle> who = last ? std::move(e.who) : e.who;
        std::string group = last ? std::move(e.group) : e.group;
        switch (e.kind) {
          case Event::Kind::snapshot:
            e.to[i].send(GroupMembers{std::move(group), std::move(who)});
            break;
          case Event::Kind::joined:
            e.to[i].send(GroupJoined{std::move(group), std::move(who)});
            break;
          case Event::Kind::left:
            e.to[i].send(GroupLeft{std::move(group), std::move(who)});
            break;
        }
      } catch (...) {  // no memory for this event: the watcher misses it, the others get theirs
      }
    }
  }

  System& system;
  detail::LiveSet& live;
  std::mutex mutex;  // guards everything below but the counts
  Table table;
  std::unordered_map<runtime::ActorCore*, Owned> owned;  // this system's actors with entries
  std::vector<Event> outbox;
  bool delivering = false;
  std::condition_variable delivered;  // signalled when a deliverer is done (delivering false)
  detail::GroupObserver* observer = nullptr;
  std::array<Count, detail::group_table::kShards> counts;
};

}  // namespace troupe
