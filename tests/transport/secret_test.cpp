// Loading the cluster secret (node.hpp): from a file only its owner may read, or from an
// environment variable. Each failure is an error value that says what is wrong, never a secret
// taken from a file others can read.
#include "transport_test_support.hpp"

#include <troupe/transport/node.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace {

// A file in the temporary directory holding `text`, with mode `mode` (exactly: chmod, not the
// umask); removed by the destructor.
struct SecretFile {
  SecretFile(const std::string& text, mode_t mode) {
    char pattern[] = "/tmp/troupe-load-secret-XXXXXX";
    const int fd = ::mkstemp(pattern);
    REQUIRE(fd >= 0);
    path = pattern;
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
  }
  ~SecretFile() { ::unlink(path.c_str()); }
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;
  std::string path;
};

// Sets an environment variable for one test and removes it after; its name is this process's own,
// so tests run at once in other processes cannot see or change it.
struct EnvVar {
  explicit EnvVar(const char* value) : name("TROUPE_TEST_SECRET_" + std::to_string(::getpid())) {
    if (value != nullptr) REQUIRE(::setenv(name.c_str(), value, 1) == 0);
  }
  ~EnvVar() { ::unsetenv(name.c_str()); }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;
  std::string name;
};

bool says(const troupe::Error& error, const std::string& text) { return error.what.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("load_secret_file reads a secret its owner alone may read, without the line end") {
  using troupe::transport::load_secret_file;
  const std::string secret = transport_test::kTestSecret;

  SUBCASE("mode 0600, a newline at the end") {
    SecretFile file(secret + "\n", 0600);
    auto loaded = load_secret_file(file.path);
    REQUIRE(loaded.ok());
    CHECK(*loaded == secret);
  }
  SUBCASE("mode 0400 (read-only for the owner), a CRLF line end") {
    SecretFile file(secret + "\r\n", 0400);
    auto loaded = load_secret_file(file.path);
    REQUIRE(loaded.ok());
    CHECK(*loaded == secret);
  }
  SUBCASE("no line end; spaces and inner bytes kept as they are") {
    SecretFile file(" two words\tand a tab ", 0600);
    auto loaded = load_secret_file(file.path);
    REQUIRE(loaded.ok());
    CHECK(*loaded == " two words\tand a tab ");
  }
}

TEST_CASE("load_secret_file refuses a file its group or others may use, a missing file and an empty one") {
  using troupe::transport::load_secret_file;
  const std::string secret = transport_test::kTestSecret;

  SUBCASE("any permission bit for the group or others, whatever the bit") {
    for (const mode_t mode : {0644, 0640, 0604, 0620, 0602, 0610, 0601, 0660, 0666, 0777}) {
      CAPTURE(mode);
      SecretFile file(secret, mode);
      auto loaded = load_secret_file(file.path);
      REQUIRE_FALSE(loaded.ok());
      CHECK(loaded.code() == troupe::Errc::node_unreachable);
      CHECK(says(loaded.error(), "readable by others (want mode 0600)"));
      CHECK(says(loaded.error(), file.path));
      CHECK_FALSE(says(loaded.error(), secret));  // the secret never shows in an error
    }
  }

  SUBCASE("a missing file") {
    const std::string path = "/tmp/troupe-no-such-secret-" + std::to_string(::getpid());
    auto loaded = load_secret_file(path);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.code() == troupe::Errc::node_unreachable);
    CHECK(says(loaded.error(), "secret file not found: " + path));
  }
  SUBCASE("an empty file, or one of line ends only") {
    for (const char* text : {"", "\n", "\r\n\n"}) {
      CAPTURE(std::string(text).size());
      SecretFile file(text, 0600);
      auto loaded = load_secret_file(file.path);
      REQUIRE_FALSE(loaded.ok());
      CHECK(says(loaded.error(), "secret file is empty"));
    }
  }
}

TEST_CASE("load_secret_env reads the secret from a variable, and refuses an unset or empty one") {
  using troupe::transport::load_secret_env;
  SUBCASE("set") {
    EnvVar var(transport_test::kTestSecret);
    auto loaded = load_secret_env(var.name.c_str());
    REQUIRE(loaded.ok());
    CHECK(*loaded == transport_test::kTestSecret);
  }
  SUBCASE("unset") {
    EnvVar var(nullptr);
    auto loaded = load_secret_env(var.name.c_str());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.code() == troupe::Errc::node_unreachable);
    CHECK(says(loaded.error(), "no secret in $" + var.name));
  }
  SUBCASE("empty") {
    EnvVar var("");
    auto loaded = load_secret_env(var.name.c_str());
    REQUIRE_FALSE(loaded.ok());
    CHECK(says(loaded.error(), "no secret in $" + var.name));
  }
}
