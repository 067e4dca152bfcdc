// A kj::AsyncInputStream over bytes in memory, for the fuzz target: reads complete at once, in
// pieces of at most `chunk` bytes (so a frame can arrive in several reads, as from a socket).
#pragma once

#include <kj/async-io.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

class MemoryInput final : public kj::AsyncInputStream {
 public:
  MemoryInput(const std::uint8_t* data, std::size_t size, std::size_t chunk = 4096)
      : at_(data), end_(data + size), chunk_(chunk) {}

  kj::Promise<std::size_t> tryRead(void* buffer, std::size_t min_bytes, std::size_t max_bytes) override {
    std::size_t done = 0;
    auto* out = static_cast<std::uint8_t*>(buffer);
    // Like a socket: at least min_bytes unless the bytes end first (then what is left).
    while (done < min_bytes && at_ < end_) {
      const std::size_t n = std::min({max_bytes - done, chunk_, static_cast<std::size_t>(end_ - at_)});
      std::memcpy(out + done, at_, n);
      at_ += n;
      done += n;
    }
    return done;
  }

 private:
  const std::uint8_t* at_;
  const std::uint8_t* end_;
  std::size_t chunk_;
};
