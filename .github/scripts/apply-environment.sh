#!/usr/bin/env bash
# Plan one environment with the lock and apply that plan file, unless review-plan calls it dangerous
# (exit 3) and this run has not approved exactly these changes. deploy-environment.yml calls it twice:
#   apply-environment.sh <environment>                      first pass: a dangerous plan is NOT applied;
#                                                           writes destructive=true and changes-sha256
#                                                           to $GITHUB_OUTPUT for the approval job
#   apply-environment.sh <environment> <approved sha256>    after the destructive-change approval of
#                                                           this run: plans again and applies only if
#                                                           the changes' digest is the one approved
# Writes applied=true to $GITHUB_OUTPUT and outputs-<env>.json once applied. Exit 0 also when it
# stopped for an approval; 1 when the plan changed since the approval; the plan's code when it failed.
set -euo pipefail
env="${1:?usage: apply-environment.sh <environment> [<approved changes sha256>]}"
approved="${2:-}"
plan_script="${PLAN_SCRIPT:-.github/scripts/plan-environment.sh}"
output="${GITHUB_OUTPUT:-/dev/null}"
set +e
"$plan_script" "$env"
code=$?
set -e
if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
  exit "$code"
fi
digest="$(cat "plan-$env/changes.sha256")"
if [ "$code" -eq 3 ]; then
  if [ -z "$approved" ]; then
    echo "destructive=true" >>"$output"
    echo "changes-sha256=$digest" >>"$output"
    echo "::warning::the $env plan is dangerous (danger list in the job summary): not applied; it waits for an approval of the destructive-change environment in this run (changes sha256 $digest)"
    exit 0
  fi
  if [ "$approved" != "$digest" ]; then
    echo "::error::the $env plan changed since it was approved (approved $approved, now $digest): nothing applied; a new run needs a new approval"
    exit 1
  fi
fi
stack="cdktf.out/stacks/webhook-pipeline-$env"
terraform -chdir="$stack" apply -input=false -no-color tfplan
terraform -chdir="$stack" output -json \
  | python3 -c 'import json,sys; print(json.dumps({k: v["value"] for k, v in json.load(sys.stdin).items()}, indent=2))' \
  >"outputs-$env.json"
echo "applied=true" >>"$output"
