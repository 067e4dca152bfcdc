// The event-loop model's machinery: asyncio's model in C++. One thread runs one kj event loop
// (Cap'n Proto's kj-async); each task is a C++20 coroutine (EventLoop::Task) that runs on that
// thread until it co_awaits a kj::Promise — a socket read, a timer, a yield — and is resumed by
// the loop when the promise is ready. Cooperative: a task that does not await holds the thread.
//
// kj 0.9 (Debian 12) has no coroutine support of its own, so the Task type is here: awaiting a
// kj::Promise<T> adds a continuation to the loop's TaskSet that stores the value (or the error)
// and resumes the coroutine; the TaskSet owns that continuation, so the coroutine may go on to
// await again (or end) from inside it.
//
// Traced (tracing.hpp): each resumption of a task is a `work` span, each time the loop sleeps in
// epoll for I/O or a timer a `wait_io` span — one timeline row, green bursts between blue waits.
#pragma once

#include <kj/async-io.h>

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>

namespace contrast {

class EventLoop {
 public:
  class Task;

  // Sets up kj's async I/O on this thread; names the thread "event loop" in traces.
  EventLoop();
  ~EventLoop();  // destroys unfinished tasks (after cancelling what they await)
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  kj::AsyncIoProvider& io() { return *io_.provider; }
  kj::Timer& timer() { return io_.provider->getTimer(); }

  // Starts a task: it runs from the loop's next turn (inside run()).
  void spawn(Task task);
  // Runs the loop until every spawned task has ended. Rethrows the first exception a task let out.
  void run();

  // Awaiting a kj::Promise<T> inside a Task (Task::promise_type::await_transform makes one).
  template <class T>
  class Awaiter {
   public:
    Awaiter(EventLoop& loop, kj::Promise<T> promise) : loop_(loop), promise_(kj::mv(promise)) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      auto failed = [this, h](kj::Exception&& e) {
        error_ = e.getDescription().cStr();
        loop_.resume(h);
      };
      if constexpr (std::is_void_v<T>) {
        loop_.add(promise_.then([this, h] { loop_.resume(h); }, kj::mv(failed)));
      } else {
        loop_.add(promise_.then(
            [this, h](T value) {
              value_.emplace(kj::mv(value));
              loop_.resume(h);
            },
            kj::mv(failed)));
      }
    }
    T await_resume() {
      if (error_) throw std::runtime_error(*error_);
      if constexpr (!std::is_void_v<T>) return kj::mv(*value_);
    }

   private:
    struct None {};
    EventLoop& loop_;
    kj::Promise<T> promise_;
    std::optional<std::conditional_t<std::is_void_v<T>, None, T>> value_;
    std::optional<std::string> error_;
  };

  class Task {
   public:
    struct promise_type {
      EventLoop* loop = nullptr;  // set by spawn()

      Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
      std::suspend_always initial_suspend() noexcept { return {}; }  // runs once spawned
      auto final_suspend() noexcept {
        struct Final {
          bool await_ready() const noexcept { return false; }
          void await_suspend(std::coroutine_handle<promise_type> h) noexcept { h.promise().loop->ended(h); }
          void await_resume() const noexcept {}
        };
        return Final{};
      }
      void return_void() noexcept {}
      void unhandled_exception() noexcept { loop->failed(std::current_exception()); }
      template <class T>
      Awaiter<T> await_transform(kj::Promise<T>&& promise) {
        return Awaiter<T>(*loop, kj::mv(promise));
      }
    };

    Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Task& operator=(Task&&) = delete;
    ~Task() {
      if (handle_) handle_.destroy();  // never spawned
    }

   private:
    friend class EventLoop;
    explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}
    std::coroutine_handle<promise_type> handle_;
  };

  // co_await loop.yield(): lets every other ready task run first (asyncio.sleep(0)).
  static kj::Promise<void> yield() {
    return kj::evalLater([] {});
  }

 private:
  class Errors;

  void add(kj::Promise<void> continuation);
  void resume(std::coroutine_handle<> h);  // one `work` span
  void ended(std::coroutine_handle<> h) noexcept;
  void failed(std::exception_ptr e) noexcept;

  kj::AsyncIoContext io_;
  std::unique_ptr<Errors> errors_;
  kj::Own<kj::TaskSet> continuations_;
  std::unordered_set<void*> live_;  // the frames of spawned tasks that have not ended
  std::exception_ptr first_error_;
};

}  // namespace contrast
