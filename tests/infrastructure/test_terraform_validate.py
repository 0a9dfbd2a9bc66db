"""`terraform validate` of every synthesized stack with the preinstalled CLI and hashicorp/aws mirror."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline_tools import terraform_cli
from tests.infrastructure.synth import SynthesizedApp

pytestmark = [pytest.mark.synth, pytest.mark.terraform]


@pytest.fixture(scope="session")
def terraform_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        terraform_cli.find_terraform()
        return terraform_cli.write_cli_config(tmp_path_factory.mktemp("terraform-cli"))
    except terraform_cli.TerraformUnavailableError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must validate with Terraform: {error}")
        pytest.skip(f"Terraform validation skipped: {error}")


@pytest.mark.parametrize("stack", ["webhook-pipeline-test", "state-bootstrap"])
def test_stack_is_valid_terraform(app: SynthesizedApp, terraform_config: Path, tmp_path: Path, stack: str) -> None:
    workdir = tmp_path / stack
    shutil.copytree(app.stack_file(stack).parent, workdir)
    env = terraform_cli.terraform_env(terraform_config, tmp_path / "tf-data")
    terraform_cli.run(["init", "-backend=false", "-input=false", "-no-color"], cwd=workdir, env=env)
    result = terraform_cli.run(["validate", "-json", "-no-color"], cwd=workdir, env=env)
    report = json.loads(result.stdout)
    assert report["valid"] is True, report["diagnostics"]
    assert report["error_count"] == 0
    lock = (workdir / ".terraform.lock.hcl").read_text()
    assert 'version     = "5.100.0"' in lock


def test_prod_stack_with_the_waf_is_valid_terraform(
    prod_app: SynthesizedApp, terraform_config: Path, tmp_path: Path
) -> None:
    """The web ACL's nested statements (label, scope-down, logging filter) are only in prod."""
    workdir = tmp_path / "prod"
    shutil.copytree(prod_app.stack_file("webhook-pipeline-prod").parent, workdir)
    env = terraform_cli.terraform_env(terraform_config, tmp_path / "tf-data")
    terraform_cli.run(["init", "-backend=false", "-input=false", "-no-color"], cwd=workdir, env=env)
    report = json.loads(terraform_cli.run(["validate", "-json", "-no-color"], cwd=workdir, env=env).stdout)
    assert report["valid"] is True, report["diagnostics"]


def test_http_api_stack_is_valid_terraform(
    http_api_app: SynthesizedApp, terraform_config: Path, tmp_path: Path
) -> None:
    """The apigatewayv2 resources of `front_door: "http_api"` (tests/fixtures/environments/httpapi.json)."""
    workdir = tmp_path / "httpapi"
    shutil.copytree(http_api_app.stack_file("webhook-pipeline-httpapi").parent, workdir)
    env = terraform_cli.terraform_env(terraform_config, tmp_path / "tf-data")
    terraform_cli.run(["init", "-backend=false", "-input=false", "-no-color"], cwd=workdir, env=env)
    report = json.loads(terraform_cli.run(["validate", "-json", "-no-color"], cwd=workdir, env=env).stdout)
    assert report["valid"] is True, report["diagnostics"]
