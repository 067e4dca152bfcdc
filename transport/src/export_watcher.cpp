#include "export_watcher.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>

#include <thread>

namespace troupe::transport::detail {

ExportWatcher::ExportWatcher(std::shared_ptr<NodeCore> node) noexcept
    : runtime::ActorCore(node.get()), node_(std::move(node)) {}

runtime::TurnResult ExportWatcher::resume() noexcept {
  while (auto* link = mailbox_.pop()) {
    auto* env = static_cast<Envelope*>(link);
    if (env->kind() == EnvelopeKind::signal) {
      const auto& signal = payload<troupe::detail::Signal>(*env);
      if (signal.kind == troupe::detail::Signal::Kind::down)
        node_->exports().unexport(signal.ref.id, signal.from.core());
    }
    dispose(env);  // nothing else is meant for it
  }
  // A sender between its push and its link leaves pop() empty-handed: stay scheduled for it.
  return mailbox_.try_mark_empty() ? runtime::TurnResult::idle : runtime::TurnResult::more;
}

void ExportWatcher::discard_all() noexcept {
  add_ref();  // a disposed Down may release the last other reference to this watcher
  for (;;) {
    while (auto* link = mailbox_.pop()) dispose(static_cast<Envelope*>(link));
    if (mailbox_.try_mark_empty()) break;
    std::this_thread::yield();  // a sender is between its push and its link
  }
  release();
}

void ExportWatcher::destroy() noexcept {
  while (auto* link = mailbox_.pop()) dispose(static_cast<Envelope*>(link));
  delete this;
}

}  // namespace troupe::transport::detail
