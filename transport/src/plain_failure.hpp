// A failure in plain words: the node logs a kj::Exception's description as the reason (a closed
// connection, a refused peer, a failed etcd call), so it must read as a sentence, not as
// KJ_REQUIRE's text of the failed condition ("expected a < b [1 < 0]"), nor describe a variable
// as "name = value" as KJ_EXCEPTION does.
#pragma once

#include <kj/exception.h>
#include <kj/string.h>

#include <string>

namespace troupe::transport::detail {

[[noreturn]] inline void fail_plainly(kj::String why) {
  kj::throwFatalException(kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::mv(why)));
}
[[noreturn]] inline void fail_plainly(const std::string& why) { fail_plainly(kj::str(why.c_str())); }

}  // namespace troupe::transport::detail
