"""Per-environment behaviour, determinism and the state-bootstrap stack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infrastructure.assertions import by_name, resources
from tests.infrastructure.synth import SynthesizedApp, synthesize

PROJECT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.synth


def physical_names(config: dict) -> set[str]:
    names = set()
    for blocks in config["resource"].values():
        for block in blocks.values():
            for key in ("name", "function_name", "alarm_name", "bucket"):
                value = block.get(key)
                if isinstance(value, str) and not value.startswith("${") and value not in ("WebhookEvent", "body-only"):
                    names.add(value)
    return names


def test_two_suffixes_give_disjoint_names_and_state_keys(app: SynthesizedApp, other_app: SynthesizedApp) -> None:
    test_config = app.config("webhook-pipeline-test")
    qa_config = other_app.config("webhook-pipeline-qa-2")
    assert physical_names(test_config).isdisjoint(physical_names(qa_config))
    assert all(name.endswith("-qa-2") for name in physical_names(qa_config) if not name.startswith(("alias/", "/aws/")))
    assert test_config["terraform"]["backend"]["s3"]["key"] != qa_config["terraform"]["backend"]["s3"]["key"]


def test_synth_is_byte_identical_when_repeated(app: SynthesizedApp, build_dir: Path, tmp_path: Path) -> None:
    again = synthesize("test", tmp_path / "again", build_dir)
    for stack in ("webhook-pipeline-test", "state-bootstrap"):
        assert again.stack_file(stack).read_bytes() == app.stack_file(stack).read_bytes()


def test_synth_from_another_checkout_gives_identical_files(app: SynthesizedApp, tmp_path: Path) -> None:
    """A fresh copy of the tree, synthesized by `main.py` in a new process, as CI and a colleague would."""
    clone = tmp_path / "clone"
    shutil.copytree(
        PROJECT,
        clone,
        ignore=shutil.ignore_patterns(
            ".venv", "node_modules", "cdktf.out", ".build", ".git", "__pycache__", ".pytest_cache", ".hypothesis"
        ),
    )
    env = {
        **os.environ,
        "ENVIRONMENT_SUFFIX": "test",
        "PIPELINE_DECLARED_ENVIRONMENT": "test",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    subprocess.run([sys.executable, "main.py"], cwd=clone, env=env, check=True, capture_output=True, timeout=300)
    for stack in ("webhook-pipeline-test", "state-bootstrap"):
        assert (clone / "cdktf.out" / "stacks" / stack / "cdk.tf.json").read_bytes() == app.stack_file(
            stack
        ).read_bytes()
    [zip_a] = (clone / "cdktf.out" / "stacks" / "webhook-pipeline-test" / "assets").rglob("*.zip")
    [zip_b] = app.stack_file("webhook-pipeline-test").parent.joinpath("assets").rglob("*.zip")
    assert zip_a.read_bytes() == zip_b.read_bytes()


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(app: SynthesizedApp) -> None:
    config = app.config("state-bootstrap")
    assert config["terraform"]["backend"] == {"local": {"path": "../../../terraform.state-bootstrap-test.tfstate"}}
    [bucket] = resources(config, "aws_s3_bucket")
    assert bucket["bucket"] == "webhook-pipeline-tfstate-test"
    [versioning] = resources(config, "aws_s3_bucket_versioning")
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    [encryption] = resources(config, "aws_s3_bucket_server_side_encryption_configuration")
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    [block] = resources(config, "aws_s3_bucket_public_access_block")
    assert all(
        block[key] is True
        for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    documents = config["data"]["aws_iam_policy_document"]
    [tls] = [d for name, d in documents.items() if "bucket-policy" in name]
    assert tls["statement"][0]["condition"][0]["variable"] == "aws:SecureTransport"
    [key] = resources(config, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert set(by_name(config, "aws_kms_alias")) == {"alias/webhook-pipeline-state-test"}


def test_prod_overrides_apply_on_top_of_defaults(prod_app: SynthesizedApp) -> None:
    prod = prod_app.config("webhook-pipeline-prod")
    validator = by_name(prod, "aws_lambda_function", "function_name")["webhook-validator-prod"]
    assert validator["reserved_concurrent_executions"] == 200
    [acl] = resources(prod, "aws_wafv2_web_acl")
    assert acl["rule"][0]["statement"]["rate_based_statement"]["aggregate_key_type"] == "IP"
    assert len(resources(prod, "aws_wafv2_web_acl_association")) == 1
    assert json.dumps(prod).count("webhook-pipeline-tfstate-prod") == 1


def test_opt_in_api_gateway_account_role_is_trusted_only_by_api_gateway(tmp_path: Path, build_dir: Path) -> None:
    config = synthesize("acct", tmp_path / "acct", build_dir, manage_api_gateway_account=True).config(
        "webhook-pipeline-acct"
    )
    [account] = resources(config, "aws_api_gateway_account")
    [role] = [r for r in resources(config, "aws_iam_role") if r["name"] == "apigateway-cloudwatch-acct"]
    assert account["cloudwatch_role_arn"].endswith(".arn}")
    trust = [d for name, d in config["data"]["aws_iam_policy_document"].items() if "apigateway-assume" in name]
    assert trust[0]["statement"][0]["principals"] == [{"type": "Service", "identifiers": ["apigateway.amazonaws.com"]}]
    assert role["assume_role_policy"].startswith("${data.aws_iam_policy_document.")
