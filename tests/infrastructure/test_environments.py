"""Per-environment behaviour, determinism and the state-bootstrap stack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modules.config import CONFIG_DIR
from modules.provider_loader import MODE_VARIABLE
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


def environments_of_the_config_folder() -> list[str]:
    """One environment per file in terraform-state-config/: `default.json` alone is `test`."""
    return sorted("test" if path.stem == "default" else path.stem for path in CONFIG_DIR.glob("*.json"))


def stack_files(outdir: Path) -> dict[str, bytes]:
    """Every file under <outdir>/stacks (cdk.tf.json and the Lambda zip), by relative path."""
    stacks = outdir / "stacks"
    return {
        path.relative_to(stacks).as_posix(): path.read_bytes() for path in sorted(stacks.rglob("*")) if path.is_file()
    }


def test_eager_synth_in_another_checkout_matches_the_fast_synth(
    request: pytest.FixtureRequest, build_dir: Path, tmp_path: Path
) -> None:
    """The guard of the fast-path provider loader, and the determinism check of a second checkout.

    A fresh copy of the tree, in a new process with the package's eager import forced, synthesizes
    every environment of terraform-state-config/ with `main.synthesize`; each must equal, byte for
    byte under cdktf.out/stacks (cdk.tf.json and the Lambda zip), this session's fast synth.
    """
    clone = tmp_path / "clone"
    shutil.copytree(
        PROJECT,
        clone,
        ignore=shutil.ignore_patterns(
            ".venv", "node_modules", "cdktf.out", ".build", ".git", "__pycache__", ".pytest_cache", ".hypothesis",
            ".tool-venvs", ".sandbox",
        ),
    )  # fmt: skip
    environments = environments_of_the_config_folder()
    assert {"test", "prod"} <= set(environments)
    env = {
        **os.environ,
        MODE_VARIABLE: "eager",
        "PIPELINE_DECLARED_ENVIRONMENT": "test",  # default.json alone: the tests' own environment
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    out = tmp_path / "eager"
    result = subprocess.run(
        [sys.executable, "-m", "tests.infrastructure.eager_synth", str(out), *environments],
        cwd=clone, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    loader = json.loads((out / "loader.json").read_text())
    assert (loader["taken"], loader["loaded"]) == ("eager", loader["submodules"]), loader
    session = {"test": "app", "prod": "prod_app", "sandbox": "sources_app"}
    for environment in environments:
        if environment in session:
            fast = request.getfixturevalue(session[environment])
        else:
            (tmp_path / "fast").mkdir(exist_ok=True)  # node creates only the last folder of an outdir
            fast = synthesize(environment, tmp_path / "fast" / environment, build_dir)
        eager_files, fast_files = stack_files(out / environment), stack_files(fast.outdir)
        assert sorted(eager_files) == sorted(fast_files), environment
        assert any(name.endswith(".zip") for name in fast_files)
        for name, content in fast_files.items():
            assert eager_files[name] == content, f"{environment}: {name} differs between the eager and the fast synth"


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
    rate_rules = [rule for rule in acl["rule"] if "rate_based_statement" in rule["statement"]]
    assert [rule["statement"]["rate_based_statement"]["aggregate_key_type"] for rule in rate_rules] == ["IP", "IP"]
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
