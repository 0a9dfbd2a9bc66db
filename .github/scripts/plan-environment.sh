#!/usr/bin/env bash
# Synthesize, init with the environment's S3 backend and plan one environment's pipeline stack;
# leaves tfplan, plan.json, plan.txt and review.md in plan-<env>/ and exits with review-plan's code
# (0 safe, 3 deletes or replacements present).
set -euo pipefail
env="${1:?usage: plan-environment.sh <environment>}"
out="plan-$env"
mkdir -p "$out"
ENVIRONMENT_SUFFIX="$env" make synth
stack="cdktf.out/stacks/webhook-pipeline-$env"
terraform -chdir="$stack" init -input=false -no-color
# The plan role may write only the lock object, so the plan takes the S3 lock like an apply would.
terraform -chdir="$stack" plan -input=false -no-color -out=tfplan | tee "$out/plan-run.txt"
cp "$stack/tfplan" "$out/tfplan"
terraform -chdir="$stack" show -json tfplan >"$out/plan.json"
terraform -chdir="$stack" show -no-color tfplan >"$out/plan.txt"
set +e
.venv/bin/python -m pipeline_tools review-plan "$out/plan.json" --plan-text "$out/plan.txt" \
  --title "$env" --output "$out/review.md"
code=$?
set -e
cat "$out/review.md" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
exit "$code"
