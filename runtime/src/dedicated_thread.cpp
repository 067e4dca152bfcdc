#include <troupe/runtime/dedicated_thread.hpp>

#include <troupe/runtime/scheduler.hpp>
#include <troupe/runtime/trace.hpp>

#include <pthread.h>

#include <string>

namespace troupe::runtime {

DedicatedThread::~DedicatedThread() { join(); }

void DedicatedThread::start(ActorCore* actor) {
  thread_ = std::thread([this, actor] { run(actor); });
  pthread_setname_np(thread_.native_handle(), "troupe-blocking");
}

void DedicatedThread::join() {
  if (thread_.joinable()) thread_.join();
}

void DedicatedThread::schedule(ActorCore*) noexcept {
  if (scheduler_ != nullptr) scheduler_->hold();  // released when the turn ends
  // Release: pairs with the acquire exchange in run(); the turn sees the pushed message.
  wake_.store(1, std::memory_order_release);
  wake_.notify_one();
}

void DedicatedThread::run(ActorCore* actor) noexcept {
  try {
    trace::name_this_thread("blocking " + std::string(actor->name()));
  } catch (...) {  // a trace without the thread's name is still a trace
  }
  for (;;) {
    // Acquire: pairs with the release store in schedule().
    while (wake_.exchange(0, std::memory_order_acquire) == 0) wake_.wait(0, std::memory_order_acquire);
    TurnResult result;
    do {
      if (trace::enabled()) [[unlikely]] {
        const std::string_view name = actor->name();  // before the turn: it may be the last
        const auto start = trace::Clock::now();
        result = sampler_.next() ? actor->resume_sampled() : actor->resume();
        trace::record(trace::SpanKind::run, name, start, trace::Clock::now());
      } else {
        result = sampler_.next() ? actor->resume_sampled() : actor->resume();
      }
    } while (result == TurnResult::more);
    if (scheduler_ != nullptr) scheduler_->unhold();
    if (result == TurnResult::terminated) {
      actor->release();  // its own reference, now the turn is over
      break;
    }
  }
  // Release: pairs with the acquire load in finished().
  finished_.store(true, std::memory_order_release);
}

}  // namespace troupe::runtime
