// Waiting for a name. Between a supervised service's crash and its restart its name is not
// registered, and System::whereis finds nothing; a client that loops on whereis spins. Instead,
// wait for the name: the answer comes as soon as an actor registers it.
//
//   // in a handler that returns Task<...> (does not block the worker):
//   troupe::Result<troupe::DynamicHandle> svc = co_await troupe::await_name(self, "svc", 2s);
//   // on a thread of your own (blocks it):
//   troupe::Result<troupe::DynamicHandle> svc = system.await_name("svc", 2s);
//
// await_name(self, ...) is an ordinary request (AwaitName) to the system's name service, an actor
// the system starts on its first use (System::name_service()). The service answers at once when
// the name is registered; otherwise it keeps the request's promise (promise.hpp) and answers it
// when register_name registers the name, so many waiters on one name are all answered by one
// registration. Errors: Errc::timeout (the request's own timeout); Errc::system_shutdown when
// the system stops first.
//
// What it costs: while no one waits, register_name pays one relaxed load. While someone waits,
// each registration (of any name) pokes the service with one message (bursts coalesce into one)
// after the registry's locks are released; the service then looks up the names it waits for.
// A waiter whose requester gave up (its timeout) is dropped at the service's next message after
// AwaitName::timeout.
#pragma once

#include <troupe/context.hpp>
#include <troupe/handle.hpp>
#include <troupe/system.hpp>

#include <string>
#include <utility>

namespace troupe {

// A request to System::name_service(): the actor registered as `name`, as soon as there is one.
// `timeout`: how long the service keeps the request (give the request the same timeout).
struct AwaitName {
  using reply_type = DynamicHandle;
  AwaitName() = default;
  AwaitName(std::string name, Duration timeout = default_request_timeout)  // NOLINT: implicit by design
      : name(std::move(name)), timeout(timeout) {}
  std::string name;
  Duration timeout = default_request_timeout;
};

// Inside an actor: the request for the actor registered as `name`, answered when one registers
// it (or at once if one has), or Errc::timeout after `timeout`. co_await it in a Task handler.
inline auto await_name(Context& self, std::string name, Duration timeout = default_request_timeout) {
  AwaitName request(std::move(name), timeout);
  return self.request(self.system().name_service(), std::move(request), timeout);
}

}  // namespace troupe
