#include "export_watcher.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>

#include "discard_for_good.hpp"

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

void ExportWatcher::drop_queued() noexcept {
  while (auto* link = mailbox_.pop()) dispose(static_cast<Envelope*>(link));
}

void ExportWatcher::discard_all() noexcept {
  discard_for_good(*this, mailbox_, [this] { drop_queued(); });
}

void ExportWatcher::destroy() noexcept {
  drop_queued();
  delete this;
}

}  // namespace troupe::transport::detail
