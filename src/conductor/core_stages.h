#pragma once

// The stages that the Conductor runs itself: analyze, build and provision.

#include "common/result.h"
#include "conductor/stage_context.h"

namespace hivemind::conductor {

Status run_analyze(StageContext& context);
Status run_build(StageContext& context);
Status run_provision(StageContext& context);

// Builds the plan inputs from the analysis and the options. Errors: a web
// service with no port, no SSH CIDR on AWS, an invalid option value.
Result<infra::PlanInputs> plan_inputs_for(const StageContext& context);

// The InfraContext of a deployment whose plan inputs are stored (attribute
// "plan_inputs"), for teardown and retry. Nothing when none were stored.
Result<std::unique_ptr<infra::InfraContext>> infra_context_from_state(StageContext& context,
                                                                      const infra::WaitPolicy& wait);

nlohmann::json plan_inputs_to_json(const infra::PlanInputs& inputs);
Result<infra::PlanInputs> plan_inputs_from_json(const nlohmann::json& json);

}  // namespace hivemind::conductor
