#include "conductor/stage_context.h"

#include "common/log.h"

namespace hivemind::conductor {

void record_event(state::Store& store, const state::Event& event) {
  Result<std::int64_t> appended = store.append_event(event);
  if (!appended) {
    log::get("conductor")
        ->warn("could not record event {} of {}: {}", event.action, event.deployment_id, appended.error().describe());
  }
}

}  // namespace hivemind::conductor
