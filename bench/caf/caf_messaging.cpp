// caf-micro's message-passing workloads: ping-pong, fan-in, ring and fan-out (CAF 0.17).
#include <string>
#include <tuple>
#include <vector>

#include "caf_micro.hpp"

namespace caf_micro {

// -- ping-pong ----------------------------------------------------------------

namespace {

struct pong_state {
  int64_t pings = 0;
};

behavior pong_actor(stateful_actor<pong_state>* self) {
  return {
      [=](ping_atom, int64_t i) {
        ++self->state.pings;
        // The returned tuple is delivered back to the sender of the ping.
        return std::make_tuple(pong_atom::value, i);
      },
      [=](count_atom) { return self->state.pings; },
  };
}

struct ping_state {
  int64_t pongs = 0;
};

behavior ping_actor(stateful_actor<ping_state>* self, actor pong, int64_t round_trips, actor done_to) {
  return {
      [=](start_atom) { self->send(pong, ping_atom::value, int64_t{0}); },
      [=](pong_atom, int64_t i) {
        auto& st = self->state;
        if (i != st.pongs) {
          // Out-of-order or corrupted reply: report failure.
          self->send(done_to, done_atom::value, int64_t{-1});
          self->quit();
          return;
        }
        if (++st.pongs == round_trips) {
          self->send(done_to, done_atom::value, st.pongs);
          self->quit();
        } else {
          self->send(pong, ping_atom::value, st.pongs);
        }
      },
  };
}

}  // namespace

result_line run_pingpong(actor_system& sys, int pairs, int64_t round_trips) {
  scoped_actor self{sys};
  std::vector<actor> pongs;
  std::vector<actor> pings;
  for (int p = 0; p < pairs; ++p) {
    pongs.push_back(sys.spawn(pong_actor));
    pings.push_back(sys.spawn(ping_actor, pongs.back(), round_trips, actor{self}));
  }
  auto start = clock_type::now();
  for (auto& ping : pings) self->send(ping, start_atom::value);
  int64_t total = 0;
  for (int p = 0; p < pairs; ++p) {
    receive_one(self, "ping-pong completion", [&](done_atom, int64_t n) {
      if (n != round_trips)
        die("ping-pong: a ping actor reported " + std::to_string(n) + " round trips, expected " +
            std::to_string(round_trips));
      total += n;
    });
  }
  auto secs = seconds_since(start);
  if (total != round_trips * pairs) die("ping-pong: total round trips mismatch");
  // Cross-check on the pong side (outside the timed region).
  for (auto& pong : pongs) {
    self->request(pong, infinite, count_atom::value)
        .receive(
            [&](int64_t n) {
              if (n != round_trips)
                die("ping-pong: a pong actor saw " + std::to_string(n) + " pings, expected " +
                    std::to_string(round_trips));
            },
            [&](error& err) { die("ping-pong: count request failed: " + sys.render(err)); });
    self->send_exit(pong, exit_reason::user_shutdown);
  }
  auto msgs = 2.0 * static_cast<double>(round_trips) * pairs;
  return {"msgs/s", fmt_rate(msgs, secs)};
}

// -- fan-in -------------------------------------------------------------------

namespace {

struct sink_state {
  int64_t count = 0;
  int64_t sum = 0;
};

behavior sink_actor(stateful_actor<sink_state>* self, int64_t expected, actor done_to) {
  return {
      [=](int64_t x) {
        auto& st = self->state;
        st.sum += x;
        if (++st.count == expected) {
          self->send(done_to, done_atom::value, st.count, st.sum);
          self->quit();
        }
      },
  };
}

void source_actor(event_based_actor* self, actor sink, int64_t n) {
  for (int64_t i = 0; i < n; ++i) self->send(sink, i);
  // No behavior: the actor terminates after sending.
}

}  // namespace

result_line run_fanin(actor_system& sys, double scale) {
  constexpr int senders = 20;
  const int64_t per_sender = scaled(200000, scale);
  const int64_t expected = per_sender * senders;
  scoped_actor self{sys};
  auto sink = sys.spawn(sink_actor, expected, actor{self});
  auto start = clock_type::now();
  for (int s = 0; s < senders; ++s) sys.spawn(source_actor, sink, per_sender);
  receive_one(self, "fan-in completion", [&](done_atom, int64_t n, int64_t sum) {
    const int64_t want = senders * (per_sender * (per_sender - 1) / 2);
    if (n != expected || sum != want)
      die("fanin: receiver counted " + std::to_string(n) + " messages with sum " + std::to_string(sum) + ", expected " +
          std::to_string(expected) + " / " + std::to_string(want));
  });
  auto secs = seconds_since(start);
  return {"msgs/s", fmt_rate(static_cast<double>(expected), secs)};
}

// -- ring ---------------------------------------------------------------------

namespace {

struct ring_state {
  actor next;
  int64_t tokens = 0;
};

behavior ring_node(stateful_actor<ring_state>* self, int64_t index, actor done_to) {
  return {
      [=](connect_atom, actor next) {
        self->state.next = std::move(next);
        return count_atom::value;  // acknowledgement
      },
      [=](token_atom, int64_t remaining) {
        auto& st = self->state;
        ++st.tokens;
        if (remaining == 0)
          self->send(done_to, done_atom::value, index);
        else
          self->send(st.next, token_atom::value, remaining - 1);
      },
      [=](count_atom) { return self->state.tokens; },
  };
}

}  // namespace

result_line run_ring(actor_system& sys, double scale) {
  constexpr int64_t ring_size = 503;
  const int64_t hops = scaled(5000000, scale);
  scoped_actor self{sys};
  std::vector<actor> nodes;
  nodes.reserve(ring_size);
  for (int64_t i = 0; i < ring_size; ++i) nodes.push_back(sys.spawn(ring_node, i, actor{self}));
  // Close the ring (synchronously, so it is complete before the timer).
  for (int64_t i = 0; i < ring_size; ++i) {
    self->request(nodes[static_cast<size_t>(i)], infinite, connect_atom::value,
                  nodes[static_cast<size_t>((i + 1) % ring_size)])
        .receive([](count_atom) {}, [&](error& err) { die("ring: connect failed: " + sys.render(err)); });
  }
  auto start = clock_type::now();
  // The token is injected at node 0 and then makes `hops` ring hops.
  self->send(nodes[0], token_atom::value, hops);
  int64_t last = -1;
  receive_one(self, "ring completion", [&](done_atom, int64_t index) { last = index; });
  auto secs = seconds_since(start);
  if (last != hops % ring_size)
    die("ring: token ended at node " + std::to_string(last) + ", expected " + std::to_string(hops % ring_size));
  int64_t total = 0;
  for (auto& node : nodes) {
    self->request(node, infinite, count_atom::value)
        .receive([&](int64_t n) { total += n; },
                 [&](error& err) { die("ring: count request failed: " + sys.render(err)); });
  }
  if (total != hops + 1)
    die("ring: nodes handled " + std::to_string(total) + " tokens, expected " + std::to_string(hops + 1));
  for (auto& node : nodes) self->send_exit(node, exit_reason::user_shutdown);
  return {"msgs/s", fmt_rate(static_cast<double>(hops), secs)};
}

// -- fan-out ------------------------------------------------------------------

namespace {

// f(i): 200 rounds of a 27-bit linear congruential generator (every
// intermediate is below 2^58), a few hundred nanoseconds of arithmetic.
int64_t fanout_work(int64_t i) {
  constexpr int64_t mask = (int64_t{1} << 27) - 1;
  int64_t x = i & mask;
  for (int r = 0; r < 200; ++r) x = (x * 1103515245 + 12345) & mask;
  return x;
}

struct fanout_worker_state {
  int64_t count = 0;
  int64_t sum = 0;
};

behavior fanout_worker(stateful_actor<fanout_worker_state>* self, int64_t per_worker, actor collector) {
  return {
      [=](int64_t i) {
        auto& st = self->state;
        st.sum += fanout_work(i);
        if (++st.count == per_worker) {
          self->send(collector, sum_atom::value, st.sum);
          self->quit();
        }
      },
  };
}

// The producer sends every message in one handler, without waiting.
behavior fanout_producer(event_based_actor* self, std::vector<actor> workers, int64_t per_worker) {
  return {
      [=](start_atom) {
        for (int64_t i = 0; i < per_worker; ++i)
          for (auto& w : workers) self->send(w, i);
        self->quit();
      },
  };
}

}  // namespace

result_line run_fanout(actor_system& sys, double scale) {
  constexpr int workers = 60;
  const int64_t per_worker = scaled(40000, scale);
  int64_t s = 0;  // the sum of f(i) for i in 0..M-1, before the clock starts
  for (int64_t i = 0; i < per_worker; ++i) s += fanout_work(i);
  scoped_actor self{sys};
  std::vector<actor> mailboxes;
  for (int w = 0; w < workers; ++w) mailboxes.push_back(sys.spawn(fanout_worker, per_worker, actor{self}));
  auto producer = sys.spawn(fanout_producer, mailboxes, per_worker);
  auto start = clock_type::now();
  self->send(producer, start_atom::value);
  int64_t total = 0;
  for (int w = 0; w < workers; ++w) receive_one(self, "fan-out sum", [&](sum_atom, int64_t sum) { total += sum; });
  auto secs = seconds_since(start);
  if (total != workers * s) die("fanout: total " + std::to_string(total) + ", expected " + std::to_string(workers * s));
  return {"msgs/s", fmt_rate(static_cast<double>(workers * per_worker), secs)};
}

}  // namespace caf_micro
