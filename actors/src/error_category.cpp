// The registered error categories, by name, for decoding application errors from the wire.
#include <troupe/error_category.hpp>

#include <map>
#include <mutex>
#include <string>

namespace troupe {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Registration runs during static initialisation, lookups on a node's thread: a mutex suffices
// (neither is on a hot path). Function-local, so it exists before any registration uses it.
struct Categories {
  std::mutex mutex;
  std::map<std::string, const ErrorCategory*, std::less<>> by_name;
};

Categories& categories() {
  static Categories instance;
  return instance;
}

}  // namespace

ErrorCategory::ErrorCategory(std::string_view name, std::string_view names, std::vector<std::int32_t> codes)
    : name_(name) {
  // `names` is the macro's stringised list, "a, b, c", one name per code in order.
  names_.reserve(codes.size());
  for (const std::int32_t code : codes) {
    const std::size_t comma = names.find(',');
    names_.emplace_back(code, trim(names.substr(0, comma)));
    names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
  }
}

std::string_view ErrorCategory::code_name(std::int32_t code) const noexcept {
  for (const auto& [value, name] : names_) {
    if (value == code) return name;
  }
  return {};
}

namespace detail {

bool register_error_category(const ErrorCategory& category) noexcept {
  try {
    Categories& c = categories();
    std::lock_guard lock(c.mutex);
    const auto [it, inserted] = c.by_name.try_emplace(std::string(category.name()), &category);
    return inserted || it->second == &category;
  } catch (...) {
    return false;
  }
}

const ErrorCategory* find_error_category(std::string_view name) noexcept {
  Categories& c = categories();
  std::lock_guard lock(c.mutex);
  const auto it = c.by_name.find(name);
  return it == c.by_name.end() ? nullptr : it->second;
}

}  // namespace detail
}  // namespace troupe
