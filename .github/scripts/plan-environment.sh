#!/usr/bin/env bash
# Synthesize, init with the environment's S3 backend and plan one environment's pipeline stack.
#   plan-environment.sh <environment> [--no-lock]
# --no-lock: plan without the state lock (pull-request plans: their roles cannot write the lock).
# Leaves the plan file in the stack folder (deploy applies it) and writes to plan-<env>/ only what may
# leave the job: review.md (values masked), plan.sha256 (the plan file's digest) and changes.sha256 (the
# digest of what it changes, which a deploy approval is bound to: pipeline_tools/review/changes_digest.py). The
# plan's JSON (prior state and sensitive values in clear) and text stay in a temporary folder that is
# deleted on exit. Exits with review-plan's code (0 safe, 3 destructive changes present).
set -euo pipefail
env="${1:?usage: plan-environment.sh <environment> [--no-lock]}"
lock_args=()
if [ "${2:-}" = "--no-lock" ]; then
  lock_args=(-lock=false)
elif [ -n "${2:-}" ]; then
  echo "unknown option: $2" >&2
  exit 2
fi
out="plan-$env"
mkdir -p "$out"
private="$(mktemp -d "${RUNNER_TEMP:-/tmp}/plan-$env.XXXXXX")"
trap 'rm -rf "$private"' EXIT
ENVIRONMENT_SUFFIX="$env" make synth
stack="cdktf.out/stacks/webhook-pipeline-$env"
terraform -chdir="$stack" init -input=false -no-color
terraform -chdir="$stack" plan -input=false -no-color "${lock_args[@]}" -out=tfplan >"$private/plan-run.txt"
digest="$(sha256sum "$stack/tfplan" | cut -d' ' -f1)"
echo "$digest" >"$out/plan.sha256"
terraform -chdir="$stack" show -json tfplan >"$private/plan.json"
terraform -chdir="$stack" show -no-color tfplan >"$private/plan.txt"
set +e
.venv/bin/python -m pipeline_tools review-plan "$private/plan.json" --plan-text "$private/plan.txt" \
  --title "$env" --context "commit \`${GITHUB_SHA:-local}\`, plan file sha256 \`$digest\`" \
  --output "$out/review.md" --changes-digest "$out/changes.sha256"
code=$?
set -e
cat "$out/review.md" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
exit "$code"
