// The shared secret: loading it, generating one, and judging its strength.
#include <troupe/transport/node.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace troupe::transport {

Result<std::string> load_secret_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{Errc::node_unreachable, "secret file not found: " + path};
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Error{Errc::node_unreachable, "secret file " + path + " is readable by others (want mode 0600)"};
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) return Error{Errc::node_unreachable, "secret file is empty: " + path};
  return secret;
}

Result<std::string> load_secret_env(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0')
    return Error{Errc::node_unreachable, std::string("no secret in $") + variable};
  return std::string(value);
}

Result<void> generate_secret_file(const std::string& path) {
  auto failed = [&path](const char* what) {
    return Error{Errc::node_unreachable,
                 std::string("cannot ") + what + " secret file " + path + ": " + std::strerror(errno)};
  };
  std::array<unsigned char, 32> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return Error{Errc::node_unreachable, "no random bytes for a secret (OpenSSL's generator failed)"};
  }
  std::array<char, 2 * 32 + 1> text{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    text[2 * i] = "0123456789abcdef"[key[i] >> 4];
    text[2 * i + 1] = "0123456789abcdef"[key[i] & 0xf];
  }
  text.back() = '\n';
  OPENSSL_cleanse(key.data(), key.size());
  // O_EXCL: never replace a secret in use (nor follow a link planted at the path).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    OPENSSL_cleanse(text.data(), text.size());
    return failed("create");
  }
  // The umask can only take permissions away; this makes the mode exactly 0600 whatever it is.
  bool ok = ::fchmod(fd, 0600) == 0;
  for (std::size_t written = 0; ok && written < text.size();) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  OPENSSL_cleanse(text.data(), text.size());
  if (!ok) {
    Error error = failed("write");
    ::close(fd);
    ::unlink(path.c_str());  // no half-written secret left behind
    return error;
  }
  if (::close(fd) != 0) {
    Error error = failed("write");
    ::unlink(path.c_str());
    return error;
  }
  return {};
}

double secret_strength_bits(std::string_view secret) noexcept {
  bool lower = false, upper = false, digit = false, symbol = false, other = false;
  for (const char c : secret) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 'a' && b <= 'z') {
      lower = true;
    } else if (b >= 'A' && b <= 'Z') {
      upper = true;
    } else if (b >= '0' && b <= '9') {
      digit = true;
    } else if (b >= 0x20 && b < 0x7f) {
      symbol = true;  // the 33 printable non-alphanumerics, space included
    } else {
      other = true;
    }
  }
  const int alphabet = other ? 256 : (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (symbol ? 33 : 0);
  if (alphabet <= 1) return 0;  // empty (or nothing to choose from)
  return static_cast<double>(secret.size()) * std::log2(static_cast<double>(alphabet));
}

}  // namespace troupe::transport
