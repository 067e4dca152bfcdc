// The event loop's driver: kj's loop pumped by hand, so that its sleeps in epoll can be traced.
#include "event_loop.hpp"

#include <kj/async-unix.h>

#include "tracing.hpp"

namespace contrast {

// Continuations never fail (an Awaiter turns a kj error into a C++ exception inside the task,
// and a task's own exceptions end at unhandled_exception), but kj::TaskSet needs a handler.
class EventLoop::Errors final : public kj::TaskSet::ErrorHandler {
 public:
  explicit Errors(EventLoop& loop) : loop_(loop) {}
  void taskFailed(kj::Exception&& e) override {
    loop_.failed(std::make_exception_ptr(std::runtime_error(e.getDescription().cStr())));
  }

 private:
  EventLoop& loop_;
};

EventLoop::EventLoop()
    : io_(kj::setupAsyncIo()),
      errors_(std::make_unique<Errors>(*this)),
      continuations_(kj::heap<kj::TaskSet>(*errors_)) {
  trace::name_this_thread("event loop");
}

EventLoop::~EventLoop() {
  continuations_ = nullptr;  // cancels what unfinished tasks await; nothing resumes them now
  for (void* frame : live_) std::coroutine_handle<>::from_address(frame).destroy();
}

void EventLoop::spawn(Task task) {
  const std::coroutine_handle<Task::promise_type> h = std::exchange(task.handle_, nullptr);
  h.promise().loop = this;
  live_.insert(h.address());
  add(kj::evalLater([this, h] { resume(h); }));
}

void EventLoop::run() {
  while (!live_.empty() && !first_error_) {
    io_.waitScope.poll();  // runs every task that is ready, and polls for I/O without blocking
    if (live_.empty() || first_error_) break;
    // Nothing is ready: sleep in epoll until a socket or a timer is (the blue in the timeline).
    const trace::Span span(trace::SpanKind::wait_io, "waits for I/O or a timer");
    io_.unixEventPort.wait();
  }
  if (first_error_) std::rethrow_exception(first_error_);
}

void EventLoop::add(kj::Promise<void> continuation) { continuations_->add(kj::mv(continuation)); }

void EventLoop::resume(std::coroutine_handle<> h) {
  const trace::Span span(trace::SpanKind::work, "a task runs");
  h.resume();
}

void EventLoop::ended(std::coroutine_handle<> h) noexcept {
  live_.erase(h.address());
  h.destroy();  // at its final suspend point: nothing of the frame is used after this
}

void EventLoop::failed(std::exception_ptr e) noexcept {
  if (!first_error_) first_error_ = e;
}

}  // namespace contrast
