// supervision: a job queue hands jobs to a pool of workers that a supervisor keeps alive.
//
//   supervisor (one_for_one)          queue
//     ├── worker-0  ──Ready/Done──▶   (monitors every worker; a Down re-queues the job
//     ├── worker-1                     that worker had, so every job completes exactly once)
//     └── ...
//
// Workers crash at random (seeded: about 1 job in 5 throws). The supervisor restarts the crashed
// worker (a fresh actor with a fresh handle); the new one announces itself to the queue, which
// it finds by its registered name. The program checks that every job completed exactly once.
//
//   supervision [jobs] [workers] [seed]
#include <troupe/troupe.hpp>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

struct Job {
  int id;
  int attempt;
};
struct Ready {  // a worker (a new incarnation, or one that finished a job) wants work
  troupe::DynamicHandle worker;
};
struct Done {
  int job;
  long result;
  troupe::DynamicHandle worker;
};
struct AllDone {
  std::vector<int> completions;  // per job: how many times it completed
  long total;
  int requeued;
};

// Squares the job's id, except when the dice say crash (seeded by job and attempt, so a run
// is reproducible and a retried job may succeed).
class Worker {
 public:
  Worker(troupe::Context& self, unsigned seed) : self_(self), seed_(seed) {
    if (auto queue = self_.system().whereis("queue")) queue->send(Ready{self_.self()});
  }
  auto behavior() {
    return troupe::behavior([this](const Job& job) {
      std::mt19937 dice(seed_ * 7919u + static_cast<unsigned>(job.id) * 31u + static_cast<unsigned>(job.attempt));
      if (dice() % 5 == 0) throw std::runtime_error("crashed on job " + std::to_string(job.id));
      if (auto queue = self_.system().whereis("queue")) queue->send(Done{job.id, long(job.id) * job.id, self_.self()});
    });
  }

 private:
  troupe::Context& self_;
  unsigned seed_;
};

class Queue {
 public:
  Queue(troupe::Context& self, int jobs, troupe::DynamicHandle report)
      : self_(self), report_(std::move(report)), completions_(static_cast<std::size_t>(jobs), 0) {
    for (int id = 0; id < jobs; ++id) pending_.push_back(Job{id, 0});
  }
  auto behavior() {
    return troupe::behavior(
        [this](const Ready& r) {
          self_.monitor(r.worker);  // a Down tells us when this incarnation is gone
          dispatch(r.worker);
        },
        [this](const Done& d) {
          ++completions_[static_cast<std::size_t>(d.job)];
          total_ += d.result;
          in_flight_.erase(d.worker);
          if (++done_ == static_cast<int>(completions_.size())) {
            report_.send(AllDone{completions_, total_, requeued_});
          }
          dispatch(d.worker);
        },
        [this](const troupe::Down& down) {
          auto it = in_flight_.find(down.actor);
          if (it == in_flight_.end()) return;
          std::printf("  queue: job %d lost with its worker, re-queued\n", it->second.id);
          pending_.push_front(Job{it->second.id, it->second.attempt + 1});
          in_flight_.erase(it);
          ++requeued_;
          if (!idle_.empty()) {  // a worker waiting for work takes it
            auto worker = idle_.front();
            idle_.pop_front();
            dispatch(worker);
          }
        });
  }

 private:
  void dispatch(const troupe::DynamicHandle& worker) {
    if (pending_.empty()) {
      idle_.push_back(worker);
      return;
    }
    Job job = pending_.front();
    pending_.pop_front();
    in_flight_[worker] = job;
    worker.send(job);
  }

  troupe::Context& self_;
  troupe::DynamicHandle report_;
  std::deque<Job> pending_;
  std::map<troupe::DynamicHandle, Job> in_flight_;
  std::deque<troupe::DynamicHandle> idle_;
  std::vector<int> completions_;
  long total_ = 0;
  int done_ = 0;
  int requeued_ = 0;
};

int main(int argc, char** argv) {
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 100;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 4;
  const unsigned seed = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 42;
  if (jobs <= 0 || workers <= 0) {
    std::fprintf(stderr, "usage: supervision [jobs > 0] [workers > 0] [seed]\n");
    return 2;
  }

  // Crashes and restarts are the point here: not logged. Any other event is, as by default.
  troupe::Config config;
  config.log.sink = [](const troupe::LogEvent& e) {
    if (e.name != "actor_failed" && e.name != "supervisor_restart") troupe::log_to_stderr(e);
  };
  troupe::System system(config);
  troupe::ScopedActor me(system);
  auto queue = system.spawn<Queue>(jobs, me.handle());
  if (!system.register_name("queue", queue).ok()) return 1;

  std::vector<troupe::ChildSpec> pool;
  for (int i = 0; i < workers; ++i) pool.push_back(troupe::child<Worker>("worker-" + std::to_string(i), seed));
  troupe::SupervisorSpec spec{.strategy = troupe::Strategy::one_for_one,
                              .max_restarts = static_cast<std::size_t>(jobs),  // crashes are expected here
                              .period = 1s};
  int restarts = 0;
  spec.on_restart = [&restarts](const troupe::RestartEvent& e) {  // on the supervisor's turn
    ++restarts;
    std::printf("restart: %.*s (%s), its restart #%zu\n", int(e.child.size()), e.child.data(),
                e.reason.to_string().c_str(), e.restarts);
  };
  auto sup = system.spawn_supervisor(spec, std::move(pool));

  auto result = me.receive<AllDone>(60s);
  if (!result.ok()) {
    std::printf("the jobs did not complete: %s\n", result.error().message().c_str());
    return 1;
  }
  (void)troupe::stop_supervisor(me, sup);  // workers stop in reverse order; restarts counted by now

  int exactly_once = 0;
  for (int c : result->completions) exactly_once += c == 1 ? 1 : 0;
  long expected = 0;
  for (long id = 0; id < jobs; ++id) expected += id * id;
  std::printf("%d jobs on %d workers: %d completed exactly once, %d re-queued, %d worker restarts\n", jobs, workers,
              exactly_once, result->requeued, restarts);
  std::printf("sum of results %ld (expected %ld)\n", result->total, expected);
  const bool ok = exactly_once == jobs && result->total == expected && restarts == result->requeued;
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
