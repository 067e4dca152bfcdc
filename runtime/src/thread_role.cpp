#include <troupe/runtime/thread_role.hpp>

namespace troupe::runtime {
namespace {
thread_local bool tls_runtime_thread = false;
}  // namespace

bool on_runtime_thread() noexcept { return tls_runtime_thread; }
RuntimeThreadScope::RuntimeThreadScope() noexcept { tls_runtime_thread = true; }
RuntimeThreadScope::~RuntimeThreadScope() { tls_runtime_thread = false; }

}  // namespace troupe::runtime
