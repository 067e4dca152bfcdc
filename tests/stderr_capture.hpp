// Redirects this process's stderr (fd 2) to a temporary file until finish(), which returns what
// was written meanwhile (and the destructor, if finish() was not reached). What was captured is
// written to the real stderr afterwards, as it would have been, unless finish(false).
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdio>
#include <string>

namespace troupe_test {

class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    file_ = std::tmpfile();
    REQUIRE(file_ != nullptr);
    saved_ = ::dup(2);
    REQUIRE(saved_ >= 0);
    REQUIRE(::dup2(::fileno(file_), 2) >= 0);
  }
  ~StderrCapture() { (void)finish(); }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  std::string finish(bool replay = true) {
    if (saved_ < 0) return {};
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
    std::string text;
    std::rewind(file_);
    char buffer[512];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file_)) > 0;) text.append(buffer, n);
    std::fclose(file_);
    if (replay) std::fwrite(text.data(), 1, text.size(), stderr);
    return text;
  }

 private:
  std::FILE* file_ = nullptr;
  int saved_ = -1;
};

}  // namespace troupe_test
