#include "actor_metrics.hpp"

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
thread_local std::uint32_t ActorMetrics::sample_countdown_ = ActorMetrics::kSamplePeriod;

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
      Slot* made = new (std::nothrow) Slot();
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
    Chunk* made = new (std::nothrow) Chunk();
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

void ActorMetrics::count_spawn(ActorTypeId type) noexcept {
  if (TypeRow* row = row_of(type)) add(bound(), row->spawned, 1);
}

void ActorMetrics::count_exit(ActorTypeId type, ExitReason::Kind kind) noexcept {
  const auto k = static_cast<std::size_t>(kind);
  if (k >= exit_reason_kinds) return;
  if (TypeRow* row = row_of(type)) add(bound(), row->exits[k], 1);
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
  *place = DepthEntry{actor, type, depth, at_least, now};
}

// --- Reading -----------------------------------------------------------------------------------

void ActorMetrics::collect(MetricsSnapshot& snapshot) const {
  std::vector<const Slot*> slots{shared_slot_.get()};
  for (const auto& cell : worker_slots_) {
    if (const Slot* slot = cell.load(std::memory_order_acquire)) slots.push_back(slot);  // pairs with bind()
  }
  std::vector<ActorTypeId> ids;
  const std::size_t named = std::min<std::size_t>(interned_actor_types(), kOtherTypes);
  for (std::size_t t = 0; t < named; ++t) ids.push_back(static_cast<ActorTypeId>(t));
  ids.push_back(kOtherTypes);
  const auto read = [](const Counter& c) { return c.load(std::memory_order_relaxed); };  // statistics
  for (const ActorTypeId type : ids) {
    ActorTypeMetrics m;
    for (const Slot* slot : slots) {
      m.messages += read(slot->messages[type]);
      const TypeRow* row = slot->find_row(type);
      if (row == nullptr) continue;
      m.spawned += read(row->spawned);
      m.restarts += read(row->restarts);
      for (std::size_t k = 0; k < exit_reason_kinds; ++k) m.exits[k] += read(row->exits[k]);
      for (std::size_t b = 0; b < m.handling_time.counts.size(); ++b) m.handling_time.counts[b] += read(row->handling[b]);
      m.handling_time.sum += static_cast<double>(read(row->handling_ns)) * 1e-9;
    }
    std::uint64_t exits = 0;
    for (const std::uint64_t e : m.exits) exits += e;
    for (const std::uint64_t c : m.handling_time.counts) m.handling_time.count += c;
    if (m.spawned == 0 && m.messages == 0 && exits == 0 && m.restarts == 0) continue;
    // Counted on different threads and read one after the other: an exit may be read before the
    // spawn it follows. Never below zero.
    m.live = m.spawned > exits ? m.spawned - exits : 0;
    m.type = std::string(actor_type_name(type));
    snapshot.actor_types.push_back(std::move(m));
  }
  std::sort(snapshot.actor_types.begin(), snapshot.actor_types.end(),
            [](const ActorTypeMetrics& a, const ActorTypeMetrics& b) { return a.type < b.type; });

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
