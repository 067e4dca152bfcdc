#include <troupe/transport/node.hpp>

#include <sys/stat.h>

#include <cstdlib>
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

}  // namespace troupe::transport
