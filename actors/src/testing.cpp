#include <troupe/testing.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace troupe::testing {

void check(bool condition, std::string_view what) {
  if (!condition) throw CheckFailed(std::string(what));
}

std::optional<std::uint64_t> seed_from_environment() {
  const char* text = std::getenv("TROUPE_SEED");
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long seed = std::strtoull(text, &end, 0);
  if (errno != 0 || *end != '\0') {
    std::fprintf(stderr, "troupe: TROUPE_SEED=%s is not a number; ignored\n", text);
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(seed);
}

Exploration explore(std::uint64_t count, const std::function<void(std::uint64_t seed)>& run, std::uint64_t first) {
  Exploration result;
  const auto replay = seed_from_environment();
  const std::uint64_t begin = replay ? *replay : first;
  const std::uint64_t end = replay ? *replay + 1 : first + count;
  for (std::uint64_t seed = begin; seed != end; ++seed) {
    ++result.runs;
    std::string what;
    try {
      run(seed);
      continue;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "an exception that is not a std::exception";
    }
    result.failed_seed = seed;
    result.failure = "troupe: " + what + ": failed with seed " + std::to_string(seed) +
                     "; replay with TROUPE_SEED=" + std::to_string(seed);
    std::fprintf(stderr, "%s\n", result.failure.c_str());
    break;
  }
  return result;
}

Config deterministic(std::uint64_t seed, std::uint16_t budget) {
  Config config;
  config.deterministic = DeterministicMode{seed, budget};
  return config;
}

}  // namespace troupe::testing
