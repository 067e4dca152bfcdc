#include "workloads.hpp"

#include <cinttypes>
#include <cstdio>

namespace contrast {

std::string_view to_string(Workload w) {
  switch (w) {
    case Workload::cpu: return "cpu";
    case Workload::counter: return "counter";
    case Workload::bank: return "bank";
    case Workload::io: return "io";
    case Workload::hog: return "hog";
  }
  return "?";
}

std::optional<Workload> parse_workload(std::string_view name) {
  for (Workload w : kAllWorkloads) {
    if (to_string(w) == name) return w;
  }
  return std::nullopt;
}

[[gnu::noinline]] u128 sum_of_squares_range(std::uint64_t from, std::uint64_t to) {
  u128 sum = 0;
  for (std::uint64_t i = from; i < to; ++i) sum += i * i;
  return sum;
}

u128 sum_of_squares(std::uint64_t n) { return sum_of_squares_range(0, n); }

u128 sum_of_squares_closed(std::uint64_t n) {
  if (n == 0) return 0;
  const u128 m = n;
  return (m - 1) * m * (2 * m - 1) / 6;
}

u128 cpu_expected_total(const Params& p) {
  u128 total = 0;
  for (unsigned k = 0; k < kCpuValues; ++k) total += sum_of_squares_closed(p.cpu_first + k);
  return total;
}

static std::string to_decimal(u128 v) {
  std::string reversed;
  do {
    reversed += static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  return {reversed.rbegin(), reversed.rend()};
}

Outcome check_cpu(const Params& p, u128 total) {
  const u128 expected = cpu_expected_total(p);
  return {total == expected,
          "total " + to_decimal(total) + (total == expected ? " (as expected)" : " expected " + to_decimal(expected)),
          0,
          std::nullopt,
          {}};
}

Outcome check_counter(const Params& p, std::uint64_t count) {
  const std::uint64_t expected = std::uint64_t{p.counter_workers} * p.counter_increments;
  Outcome o;
  o.correct = count == expected;
  o.lost = count < expected ? expected - count : 0;
  o.detail = "count " + std::to_string(count) + " of " + std::to_string(expected);
  return o;
}

TransferStream::TransferStream(const Params& p, unsigned teller)
    : state_(p.seed * 0x9E3779B97F4A7C15ull + teller + 1),
      accounts_(p.bank_accounts),
      max_amount_(p.bank_initial / 10 + 1) {}

Transfer TransferStream::next() {
  // splitmix64: small, fast and good enough to pick accounts and amounts.
  auto draw = [this] {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  const unsigned from = static_cast<unsigned>(draw() % accounts_);
  unsigned to = static_cast<unsigned>(draw() % (accounts_ - 1));
  if (to >= from) ++to;  // never to itself
  return {from, to, 1 + draw() % max_amount_};
}

Outcome check_bank(const Params& p, std::uint64_t total, std::uint64_t applied) {
  const std::uint64_t expected = std::uint64_t{p.bank_accounts} * p.bank_initial;
  return {total == expected,
          "total " + std::to_string(total) + " of " + std::to_string(expected) + ", " + std::to_string(applied) +
              " transfers applied",
          0,
          std::nullopt,
          {}};
}

Outcome check_io(const Params& p, std::uint64_t answered, std::uint64_t wrong) {
  return {answered == p.io_requests && wrong == 0,
          std::to_string(answered) + " of " + std::to_string(p.io_requests) + " answered, " + std::to_string(wrong) +
              " wrong",
          0,
          std::nullopt,
          {}};
}

}  // namespace contrast
