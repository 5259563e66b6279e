#pragma once

// The All-Seeing Eye's sections of the report: a logs summary, the metrics
// and the costs of a deployment, read from AWS when the report is written.

#include <string>
#include <vector>

#include "aws/client.h"
#include "report/report.h"
#include "state/store.h"

namespace hivemind::conductor {

// Reads the logs (last hour: error groups and the last 10 lines), metrics
// (last hour) and costs of the deployment in parallel and renders each as a
// section. A view that cannot be read becomes a section with the reason,
// so the report is still written.
std::vector<report::LiveSection> eye_report_sections(aws::AwsClient& client, const state::Store& store,
                                                     const std::string& deployment_id, const std::string& region);

}  // namespace hivemind::conductor
