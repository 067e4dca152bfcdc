// The name service (name_service.hpp): an actor that keeps the promises of AwaitName requests
// until their names are registered.
//
// Waking. A registration must not be missed between the service's lookup and its wait, yet
// register_name must not pay for a service no one uses, nor send while it holds a registry lock.
//  - The service counts the names it waits for (awaited_names) BEFORE it looks one up; a
//    registration looks at the count AFTER add() released the name shard's lock. The shard lock
//    orders the two: if the service's lookup took the lock after the registration released it,
//    the lookup finds the name; otherwise the service's count came before that lock, so the
//    registration sees it nonzero and pokes the service, which looks again.
//  - Pokes coalesce: a registration sends one only if it set name_poke_pending, and the service
//    clears the flag before it looks again (see names_registered and NamesChanged).
#include <troupe/name_service.hpp>
#include <troupe/promise.hpp>
#include <troupe/scoped_actor.hpp>
#include <troupe/system.hpp>

#include "system_internals.hpp"

#include <atomic>
#include <chrono>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace troupe {

namespace {

using TimePoint = runtime::TimerService::Clock::time_point;

// A registration happened while someone waited (an internal poke; no payload).
struct NamesChanged {};

class NameService {
 public:
  explicit NameService(Context& self) : self_(self), in_(self.system().internals()) {}
  NameService(const NameService&) = delete;
  NameService& operator=(const NameService&) = delete;

  // The service stops only at shutdown (or if it failed): every waiter gets an error, and
  // registrations stop poking it.
  ~NameService() {
    const Error why = self_.system().stopping() ? Error{Errc::system_shutdown, "the name service stopped"}
                                                : Error{Errc::dead_actor, "the name service stopped"};
    for (auto& [name, waiters] : waiting_) {
      for (Waiter& w : waiters) w.reply.fail(why);
    }
    // Relaxed: only a hint for registrations (see the top of the file); nothing is waited for now.
    in_.awaited_names.fetch_sub(waiting_.size(), std::memory_order_relaxed);
  }

  auto behavior() {
    return troupe::behavior([this](AwaitName& request) { return wait(request); },
                            [this](NamesChanged) { look_again(); });
  }

 private:
  struct Waiter {
    Promise<DynamicHandle> reply;
    TimePoint until;  // when its requester stops waiting (AwaitName::timeout)
  };

  Promise<DynamicHandle> wait(AwaitName& request) {
    Promise<DynamicHandle> reply = self_.promise<DynamicHandle>();
    drop_expired();
    auto [it, inserted] = waiting_.try_emplace(request.name);
    // Relaxed: counted before the lookup below; the name shard's lock orders the two against a
    // registration (see the top of the file).
    if (inserted) in_.awaited_names.fetch_add(1, std::memory_order_relaxed);
    if (std::optional<DynamicHandle> found = self_.system().whereis(request.name)) {
      reply.deliver(std::move(*found));
      if (it->second.empty()) forget(it);
      return reply;
    }
    it->second.push_back(Waiter{reply, deadline(request.timeout)});
    return reply;
  }

  void look_again() {
    // Acquire: pairs with the acq_rel exchange of a registration that found the flag set (and so
    // sent no poke of its own): its name is then visible to the lookups below.
    in_.name_poke_pending.exchange(false, std::memory_order_acq_rel);
    drop_expired();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      std::optional<DynamicHandle> found = self_.system().whereis(it->first);
      if (!found) {
        ++it;
        continue;
      }
      for (Waiter& w : it->second) w.reply.deliver(*found);
      it = forget(it);
    }
  }

  // Waiters whose requesters have given up (their timeout passed) get the timeout as their
  // answer, which their requesters ignore: bounds what the service keeps.
  void drop_expired() {
    const TimePoint now = self_.system().now();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      std::erase_if(it->second, [&](Waiter& w) {
        if (w.until > now) return false;
        w.reply.fail(Error{Errc::timeout, "no actor named '" + it->first + "' in time"});
        return true;
      });
      it = it->second.empty() ? forget(it) : std::next(it);
    }
  }

  using Waiting = std::unordered_map<std::string, std::vector<Waiter>>;
  Waiting::iterator forget(Waiting::iterator it) {
    // Relaxed: as in wait(); a registration that still sees the old count pokes for nothing.
    in_.awaited_names.fetch_sub(1, std::memory_order_relaxed);
    return waiting_.erase(it);
  }

  TimePoint deadline(Duration timeout) const {
    const TimePoint now = self_.system().now();
    if (timeout >= TimePoint::max() - now) return TimePoint::max();
    return now + std::chrono::duration_cast<TimePoint::duration>(timeout);
  }

  Context& self_;
  System::Internals& in_;
  Waiting waiting_;
};

}  // namespace

Handle<DynamicHandle(AwaitName)> System::name_service() {
  if (stopping()) return {};
  std::lock_guard lock(internals_->name_service_mutex);
  if (!internals_->name_service) internals_->name_service = spawn<NameService>();
  return detail::assume_typed<Handle<DynamicHandle(AwaitName)>>(internals_->name_service);
}

void System::names_registered() noexcept {
  // Relaxed: see the top of the file (the registry's shard lock orders it against the service's
  // count).
  if (internals_->awaited_names.load(std::memory_order_relaxed) == 0) return;
  // Release: pairs with look_again's exchange (our name is visible to its lookups); acquire: a
  // set flag we see is the service's to clear.
  if (internals_->name_poke_pending.exchange(true, std::memory_order_acq_rel)) return;  // one on its way
  DynamicHandle service;
  {
    std::lock_guard lock(internals_->name_service_mutex);
    service = internals_->name_service;
  }
  if (!service) return;
  try {
    service.send(NamesChanged{});
  } catch (...) {  // no memory for the poke: the waiters' timeouts report it
  }
}

Result<DynamicHandle> System::await_name(std::string_view name, Duration timeout) {
  if (std::optional<DynamicHandle> found = whereis(name)) return std::move(*found);
  Handle<DynamicHandle(AwaitName)> service = name_service();
  if (!service) return Error{Errc::system_shutdown, "the system is shutting down"};
  ScopedActor self(*this);
  return self.request(service, AwaitName(std::string(name), timeout), timeout);
}

}  // namespace troupe
