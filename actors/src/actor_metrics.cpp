#include "actor_metrics.hpp"

#include "make_or_null.hpp"

#include <troupe/runtime/scheduler.hpp>

#include <algorithm>
#include <deque>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe::detail {

// --- The process's actor types ------------------------------------------------------------------

namespace {

struct TypeTable {
  std::mutex mutex;
  std::deque<std::string> names;  // by id; a deque keeps the strings where they are
  std::unordered_map<std::string_view, ActorTypeId> ids;
  // Read without the lock by actor_type_name: an id below it names a string that never moves.
  std::atomic<std::size_t> published{0};
  TypeTable() {
    names.emplace_back("(unnamed)");
    ids.emplace(names.back(), 0);
    published.store(1, std::memory_order_release);
  }
};

TypeTable& type_table() {
  static TypeTable table;
  return table;
}

constexpr ActorTypeId kOtherTypes = static_cast<ActorTypeId>(kMaxActorTypes - 1);

}  // namespace

ActorTypeId intern_actor_type(std::string_view name) noexcept {
  TypeTable& table = type_table();
  std::lock_guard lock(table.mutex);
  if (auto it = table.ids.find(name); it != table.ids.end()) return it->second;
  if (table.names.size() >= kOtherTypes) return kOtherTypes;
  try {
    const auto id = static_cast<ActorTypeId>(table.names.size());
    table.names.emplace_back(name);
    table.ids.emplace(table.names.back(), id);
    // Release: pairs with the acquire loads below; the name is whole before its id is read.
    table.published.store(table.names.size(), std::memory_order_release);
    return id;
  } catch (...) {  // no memory: counted with the others
    return kOtherTypes;
  }
}

std::string_view actor_type_name(ActorTypeId id) noexcept {
  TypeTable& table = type_table();
  if (id == kOtherTypes) return "(other types)";
  if (id >= table.published.load(std::memory_order_acquire)) return "(unnamed)";
  std::lock_guard lock(table.mutex);  // a deque's lookup reads its map of blocks, which grows
  return table.names[id];
}

std::size_t interned_actor_types() noexcept {
  // Acquire: pairs with intern_actor_type's release.
  return type_table().published.load(std::memory_order_acquire);
}

// --- Slots -------------------------------------------------------------------------------------

namespace {
std::atomic<std::uint64_t> next_serial{1};  // relaxed: only uniqueness matters
}  // namespace

thread_local ActorMetrics::Binding ActorMetrics::binding_{};

ActorMetrics::ActorMetrics()
    : serial_(next_serial.fetch_add(1, std::memory_order_relaxed)), shared_slot_(std::make_unique<Slot>()) {}

ActorMetrics::~ActorMetrics() {
  for (auto& slot : worker_slots_) delete slot.load(std::memory_order_relaxed);  // nobody counts any more
}

ActorMetrics::Slot::~Slot() {
  for (auto& chunk : chunks) delete chunk.load(std::memory_order_relaxed);
}

// A worker thread of this system's pool takes the slot of its index, made on first use; any
// other thread the shared one. Threads are bound again when they turn to another system.
void ActorMetrics::bind() noexcept {
  Binding b{serial_, shared_slot_.get(), true};
  const int index = runtime::Scheduler::current_worker_index();
  if (index >= 0 && static_cast<unsigned>(index) < kMaxWorkerSlots) {
    auto& cell = worker_slots_[static_cast<unsigned>(index)];
    // Acquire: pairs with the release CAS below (or another thread's, for an index reused by a
    // later compensating thread); the slot is whole.
    Slot* slot = cell.load(std::memory_order_acquire);
    if (slot == nullptr) {
      Slot* made = make_or_null<Slot>();
      if (made != nullptr) {
        Slot* expected = nullptr;
        if (cell.compare_exchange_strong(expected, made, std::memory_order_acq_rel, std::memory_order_acquire)) {
          slot = made;
        } else {
          delete made;
          slot = expected;
        }
      }
    }
    if (slot != nullptr) b = Binding{serial_, slot, false};
  }
  binding_ = b;
}

const ActorMetrics::TypeRow* ActorMetrics::Slot::find_row(ActorTypeId type) const noexcept {
  // Acquire: pairs with the release in row(); the chunk is whole.
  const Chunk* chunk = chunks[type / kRowsPerChunk].load(std::memory_order_acquire);
  return chunk == nullptr ? nullptr : &chunk->rows[type % kRowsPerChunk];
}

ActorMetrics::TypeRow* ActorMetrics::row_of(ActorTypeId type) noexcept {
  Slot& slot = *bound().slot;
  auto& cell = slot.chunks[type / kRowsPerChunk];
  Chunk* chunk = cell.load(std::memory_order_acquire);  // pairs with the release CAS below
  if (chunk == nullptr) {
    Chunk* made = make_or_null<Chunk>();
    if (made == nullptr) return nullptr;  // this count is lost, not the turn
    // acq_rel: publishes the chunk to readers (collect) and to other writers of the shared slot.
    if (cell.compare_exchange_strong(chunk, made, std::memory_order_acq_rel, std::memory_order_acquire)) {
      chunk = made;
    } else {
      delete made;
    }
  }
  return &chunk->rows[type % kRowsPerChunk];
}

// --- Counting ----------------------------------------------------------------------------------

void ActorMetrics::record_handling(ActorTypeId type, std::chrono::nanoseconds took) noexcept {
  TypeRow* row = row_of(type);
  if (row == nullptr) return;
  const double seconds = std::chrono::duration<double>(took).count();
  std::size_t bucket = 0;
  while (bucket < handling_time_buckets.size() && seconds > handling_time_buckets[bucket]) ++bucket;
  const Binding& b = bound();
  add(b, row->handling[bucket], 1);
  add(b, row->handling_ns, static_cast<std::uint64_t>(std::max<std::int64_t>(0, took.count())));
}

void ActorMetrics::count_restart(ActorTypeId type) noexcept {
  if (TypeRow* row = row_of(type)) add(bound(), row->restarts, 1);
}

// The board keeps one entry per actor: a new report of the same actor replaces its last one; a
// new actor takes the place of an entry that is out of the window, or else of the shallowest
// entry if it is deeper.
void ActorMetrics::report_depth(ActorTypeId type, const void* actor, std::uint64_t depth, bool at_least) noexcept {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(depth_mutex_);
  DepthEntry* place = nullptr;
  for (DepthEntry& e : deepest_) {
    if (e.actor == actor) {
      place = &e;
      break;
    }
    const bool stale = e.actor == nullptr || now - e.seen > kDepthWindow;
    if (stale) {
      if (place == nullptr || place->actor != nullptr) place = &e;
    } else if (place == nullptr || (place->actor != nullptr && e.depth < place->depth)) {
      place = &e;
    }
  }
  if (place == nullptr) return;
  const bool same_or_free = place->actor == actor || place->actor == nullptr || now - place->seen > kDepthWindow;
  if (!same_or_free && place->depth >= depth) return;
  const bool was_free = place->actor == nullptr;
  *place = DepthEntry{actor, type, depth, at_least, now};
  if (was_free) depth_entries_.fetch_add(1, std::memory_order_relaxed);  // relaxed: see drained()
}

void ActorMetrics::forget_depth(const void* actor) noexcept {
  std::lock_guard lock(depth_mutex_);
  for (DepthEntry& e : deepest_) {
    if (e.actor != actor) continue;
    e = DepthEntry{};
    depth_entries_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: see drained()
  }
}

// --- Reading -----------------------------------------------------------------------------------

void ActorMetrics::collect(std::vector<ActorTypeMetrics>& types, MetricsSnapshot& snapshot) const {
  std::vector<const Slot*> slots{shared_slot_.get()};
  for (const auto& cell : worker_slots_) {
    if (const Slot* slot = cell.load(std::memory_order_acquire)) slots.push_back(slot);  // pairs with bind()
  }
  const auto read = [](const Counter& c) { return c.load(std::memory_order_relaxed); };  // statistics
  for (std::size_t type = 0; type < types.size(); ++type) {
    ActorTypeMetrics& m = types[type];
    for (const Slot* slot : slots) {
      const TypeRow* row = slot->find_row(static_cast<ActorTypeId>(type));
      if (row == nullptr) continue;
      m.restarts += read(row->restarts);
      for (std::size_t b = 0; b < m.handling_time.counts.size(); ++b)
        m.handling_time.counts[b] += read(row->handling[b]);
      m.handling_time.sum += static_cast<double>(read(row->handling_ns)) * 1e-9;
    }
    for (const std::uint64_t c : m.handling_time.counts) m.handling_time.count += c;
  }

  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(depth_mutex_);
  for (const DepthEntry& e : deepest_) {
    if (e.actor == nullptr || now - e.seen > kDepthWindow) continue;
    snapshot.mailboxes.push_back(MailboxDepth{std::string(actor_type_name(e.type)),
                                              reinterpret_cast<std::uintptr_t>(e.actor), e.depth, e.at_least,
                                              std::chrono::duration_cast<std::chrono::nanoseconds>(now - e.seen)});
  }
  std::sort(snapshot.mailboxes.begin(), snapshot.mailboxes.end(),
            [](const MailboxDepth& a, const MailboxDepth& b) { return a.depth > b.depth; });
}

}  // namespace troupe::detail
