// blocking_io: an actor that blocks on real I/O without stalling the other actors.
//
// Ordinary actors share a few worker threads (one per core). A handler that blocks (read() on a
// pipe or a socket, a slow disk, a sleep) holds its worker for as long as it blocks, and every
// actor queued behind it waits. Spawn such an actor with SpawnOptions{.blocking = true}: it gets a
// thread of its own (like Erlang's dirty schedulers or CAF's detached actors), and its handlers may
// block freely. It is still an actor: same handles, same messages.
//
// Here, in a system with ONE worker thread, to make the point plain:
//  - a producer thread, standing in for a slow device, writes a line into a pipe every 100 ms;
//  - the archivist, a blocking actor, reads the pipe until it closes (sleeping in read() between
//    lines), writes the lines to a temporary file made with mkstemp, syncs it, reads it back and
//    deletes it;
//  - meanwhile main() keeps asking an ordinary actor, echo, for answers, and gets them at once.
// Had the archivist been an ordinary actor, its read() would have held the only worker, and echo
// could not have answered until the pipe closed.
#include <troupe/troupe.hpp>

#include <unistd.h>  // read, write, fsync, lseek, close, unlink, pipe, access

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>  // mkstemp
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kLines = 5;
constexpr auto kLineInterval = 100ms;

struct Archive {
  int pipe_fd;  // read end of the pipe, handed over: the archivist closes it
  troupe::DynamicHandle reply_to;
};
struct Archived {
  std::vector<std::string> lines;  // as read back from the file
  std::string path;                // the temporary file (deleted by now)
  std::string error;               // empty on success
  Clock::duration reading{};       // time spent reading the pipe
};
struct Echo {  // -> int, the same number
  int n;
};

// --- Blocking I/O helpers: plain POSIX, no troupe here ------------------------------------------
static std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

static bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Appends everything `fd` yields until end of file to `out`; blocks while there is nothing to read.
static bool read_all(int fd, std::string& out) {
  char buffer[512];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

static std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  for (std::size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    lines.push_back(text.substr(begin, end - begin));
  }
  return lines;
}

// The archivist's work: pipe -> temporary file -> back into memory. It closes the pipe, and
// always deletes the file.
static Archived archive(int pipe_fd) {
  Archived result;
  const auto start = Clock::now();
  std::string text;
  if (!read_all(pipe_fd, text)) result.error = errno_text("read pipe");  // blocks until the pipe closes
  result.reading = Clock::now() - start;
  ::close(pipe_fd);

  char path[] = "/tmp/troupe-blocking-io-XXXXXX";
  const int file = ::mkstemp(path);
  if (file < 0) {
    result.error = errno_text("mkstemp");
    return result;
  }
  result.path = path;

  std::string back;
  if (result.error.empty() && (!write_all(file, text.data(), text.size()) || ::fsync(file) != 0)) {
    result.error = errno_text("write file");
  }
  if (result.error.empty() && (::lseek(file, 0, SEEK_SET) != 0 || !read_all(file, back))) {
    result.error = errno_text("read file");
  }
  ::close(file);
  if (::unlink(path) != 0 && result.error.empty()) result.error = errno_text("unlink");
  result.lines = split_lines(back);
  return result;
}

// --- Actors -------------------------------------------------------------------------------------
auto archivist(troupe::Context&) {
  return troupe::behavior([](const Archive& job) { job.reply_to.send(archive(job.pipe_fd)); });
}

auto echo(troupe::Context&) {
  return troupe::behavior([](Echo e) { return e.n; });
}

int main() {
  troupe::Config config;
  config.workers = 1;  // one worker thread for all ordinary actors
  troupe::System system(config);
  auto echoer = system.spawn(echo);                                                 // on the worker
  auto archiver = system.spawn(troupe::SpawnOptions{.blocking = true}, archivist);  // own thread

  int fds[2];
  if (::pipe(fds) != 0) {
    std::printf("FAILED: %s\n", errno_text("pipe").c_str());
    return 1;
  }
  std::vector<std::string> expected;
  for (int i = 1; i <= kLines; ++i) expected.push_back("line " + std::to_string(i) + " from the slow device");
  std::thread producer([&expected, out = fds[1]] {
    for (const std::string& line : expected) {
      std::this_thread::sleep_for(kLineInterval);
      const std::string text = line + "\n";
      write_all(out, text.data(), text.size());
    }
    ::close(out);  // end of file for the reader
  });

  troupe::ScopedActor me(system);
  archiver.send(Archive{fds[0], me.handle()});

  // While the archivist is blocked in read(), ask echo for an answer every 20 ms or so.
  std::optional<Archived> archived;
  int answered = 0;
  bool echo_failed = false;
  Clock::duration slowest{};
  const auto deadline = Clock::now() + 30s;
  while (!archived && Clock::now() < deadline) {
    if (troupe::Result<Archived> r = me.receive<Archived>(20ms)) {
      archived = std::move(*r);
    } else if (!echo_failed) {
      const auto asked = Clock::now();
      troupe::Result<int> reply = me.request(echoer, Echo{answered}, 5s);
      echo_failed = !reply || *reply != answered;
      slowest = std::max(slowest, Clock::now() - asked);
      answered += echo_failed ? 0 : 1;
    }
  }
  producer.join();

  if (!archived) {
    std::printf("FAILED: the archivist did not answer\n");
    return 1;
  }
  const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("system: %u worker thread; the archivist runs on a thread of its own\n", system.worker_count());
  std::printf("archivist: blocked in read() for %.0f ms, archived %zu lines via %s (deleted), read back:\n",
              ms(archived->reading), archived->lines.size(), archived->path.c_str());
  for (const std::string& line : archived->lines) std::printf("  | %s\n", line.c_str());
  std::printf("meanwhile: echo answered %d requests on the worker, the slowest in %.2f ms\n", answered, ms(slowest));

  const bool deleted = !archived->path.empty() && ::access(archived->path.c_str(), F_OK) != 0 && errno == ENOENT;
  if (!archived->error.empty()) std::printf("FAILED: %s\n", archived->error.c_str());
  if (echo_failed) std::printf("FAILED: echo did not answer\n");
  const bool ok = archived->error.empty() && archived->lines == expected && answered > 0 && !echo_failed && deleted;
  std::printf("%s\n", ok ? "OK: the lines made the round trip, the pool kept working, the file is gone" : "FAILED");
  return ok ? 0 : 1;
}
