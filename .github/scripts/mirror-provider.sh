#!/usr/bin/env bash
# Fill a filesystem mirror with hashicorp/aws 5.100.0, the version the stacks pin; no-op when cached.
set -euo pipefail
mirror="${1:?usage: mirror-provider.sh <mirror-dir>}"
if [ -d "$mirror/registry.terraform.io/hashicorp/aws/5.100.0" ]; then
  echo "provider mirror already holds hashicorp/aws 5.100.0"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/main.tf" <<'TF'
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
TF
terraform -chdir="$work" providers mirror -platform=linux_amd64 "$mirror"
