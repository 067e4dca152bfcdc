// The text of an exception, for exit reasons and error replies.
#pragma once

#include <exception>
#include <string>

namespace troupe::detail {

inline std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace troupe::detail
