// pool: clients send jobs through one pool handle to supervised workers that crash at random.
//
//   client-0 ─┐                     ┌── worker  (the pool's supervisor restarts a crashed
//   client-1 ─┼── request(pool) ──▶ router ──┼── worker   worker; the router skips it meanwhile)
//   ...      ─┘   (answered by the worker)   └── ...
//
// Workers crash at random (seeded: about 1 job in 5 throws). A client whose request fails
// (actor_failed from the crash, or dead_actor for a job lost in a crashed worker's mailbox)
// sends it again. The program checks that every job completed exactly once.
//
//   pool [jobs] [workers] [seed]
#include <troupe/troupe.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

struct Job {
  int id;
  int attempt;
};
struct Done {
  int job;
};
struct Run {  // a client's share of the jobs: [first, last)
  int first;
  int last;
  troupe::DynamicHandle report_to;
};
struct Report {
  std::vector<int> completed;
  int retries;
};

namespace {

std::uint64_t mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Worker {
 public:
  explicit Worker(std::uint64_t seed) : seed_(seed) {}
  auto behavior() {
    return troupe::behavior([this](Job j) {
      const auto roll = mix(seed_ ^ mix(static_cast<std::uint64_t>(j.id) * 31 + static_cast<std::uint64_t>(j.attempt)));
      if (roll % 5 == 0) throw std::runtime_error("worker crashed");
      return Done{j.id};
    });
  }

 private:
  std::uint64_t seed_;
};

using WorkerPool = troupe::Pool<troupe::Handle<Done(Job)>>;

auto client(troupe::Context& self, WorkerPool pool) {
  return troupe::behavior([&self, pool](Run run) -> troupe::Task<void> {
    Report report{{}, 0};
    for (int id = run.first; id < run.last; ++id) {
      for (int attempt = 0;; ++attempt) {
        auto done = co_await self.request(pool, Job{id, attempt}, 5s);
        if (done) {
          report.completed.push_back(done.value().job);
          break;
        }
        ++report.retries;
      }
    }
    run.report_to.send(std::move(report));
  });
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 200;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 4;
  const std::uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 7;
  constexpr int kClients = 4;

  troupe::Config config;
  // Crashes and restarts are the point here: not logged. Any other event is, as by default.
  config.log.sink = [](const troupe::LogEvent& e) {
    if (e.name != "actor_failed" && e.name != "supervisor_restart") troupe::log_to_stderr(e);
  };
  troupe::System system(config);
  troupe::PoolSpec spec;
  spec.size = static_cast<std::size_t>(workers);
  spec.routing = troupe::Routing::round_robin;
  spec.max_restarts = static_cast<std::size_t>(jobs);  // never give up here
  WorkerPool pool = troupe::spawn_pool<Worker>(system, spec, seed);

  troupe::ScopedActor me(system);
  for (int c = 0; c < kClients; ++c) {
    system.spawn(client, pool).send(Run{jobs * c / kClients, jobs * (c + 1) / kClients, me.handle()});
  }
  std::vector<int> completions(static_cast<std::size_t>(jobs), 0);
  int retries = 0;
  for (int c = 0; c < kClients; ++c) {
    auto report = me.receive<Report>(60s);
    if (!report) {
      std::fprintf(stderr, "pool: a client did not report\n");
      return 1;
    }
    for (int id : report.value().completed) ++completions[static_cast<std::size_t>(id)];
    retries += report.value().retries;
  }
  const auto info = troupe::pool_info(me, pool);
  int exactly_once = 0;
  for (int n : completions) exactly_once += n == 1 ? 1 : 0;
  std::printf("%d of %d jobs completed exactly once; %d retries; %zu workers restarted\n", exactly_once, jobs,
              retries, info ? info.value().restarts : 0);
  return exactly_once == jobs ? 0 : 1;
}
