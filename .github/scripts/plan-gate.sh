#!/usr/bin/env bash
# The one required status check of plan.yml. Passes only when every environment's plan succeeded and,
# if any plan holds destructive changes, the destructive-change approval job of this same run (an
# environment with required reviewers, self-review prevented) succeeded. Inputs, from `needs`:
#   PLAN_RESULTS       space-separated job results of the plan jobs (success, failure, cancelled, skipped)
#   DESTRUCTIVE        space-separated "true"/"false", one per plan job
#   APPROVAL_RESULT    result of the approval job (skipped when nothing was destructive)
set -euo pipefail
for result in ${PLAN_RESULTS:?}; do
  if [ "$result" != success ]; then
    echo "::error::a plan job ended with '$result'"
    exit 1
  fi
done
destructive=false
for flag in ${DESTRUCTIVE:-}; do
  if [ "$flag" = true ]; then destructive=true; fi
done
if [ "$destructive" = false ]; then
  echo "no destructive changes"
  exit 0
fi
if [ "${APPROVAL_RESULT:-}" = success ]; then
  echo "destructive changes approved for this run's plans"
  exit 0
fi
echo "::error::the plans hold destructive changes (see the danger list in the PR comments) and this run's approval is '${APPROVAL_RESULT:-missing}': a reviewer other than the pusher must approve the destructive-change environment of this run"
exit 1
