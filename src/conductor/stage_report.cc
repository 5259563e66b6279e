// The report stage: stores the analysis in state, so that `hivemind report`
// can regenerate the report later, then writes the report with the
// All-Seeing Eye's live sections.

#include "conductor/eye_report.h"
#include "conductor/stages.h"
#include "report/report.h"

namespace hivemind::conductor {

Status run_report(StageContext& context) {
  const std::string& id = context.deployment.id;
  if (context.analysis) {
    Status stored = context.store->set_attribute(id, "analysis", repo::analysis_to_json(*context.analysis));
    if (!stored) return stored;
  }
  std::vector<report::LiveSection> live;
  if (context.client != nullptr) {
    live = eye_report_sections(*context.client, *context.store, id, context.deployment.region);
  }
  auto written = report::write_report(*context.store, id, std::move(live));
  if (!written) return fail(written.error());
  context.emit({ConductorEvent::Kind::kNote, state::StageName::report, "Reporter", "report " + written->string()});
  return ok_unit();
}

}  // namespace hivemind::conductor
