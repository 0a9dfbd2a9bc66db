"""Run the Terraform CLI against the preinstalled hashicorp/aws mirror, never the machine's CLI config.

`TF_PROVIDER_MIRROR` names the mirror folder (the one holding `registry.terraform.io/`); without it
the usual places are searched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PROVIDER_VERSION = "5.100.0"
_PROVIDER_PATH = f"registry.terraform.io/hashicorp/aws/{PROVIDER_VERSION}"
_CANDIDATE_MIRRORS = (
    "/opt/tf-plugins",
    "/usr/share/terraform/plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
)


class TerraformError(RuntimeError):
    """A Terraform command failed; the message holds its output (shown as `error: …`, no traceback)."""


class TerraformUnavailableError(TerraformError):
    """Terraform or the provider mirror is missing; the message says what to install."""


def find_mirror() -> Path:
    configured = os.environ.get("TF_PROVIDER_MIRROR")
    candidates = [configured] if configured else list(_CANDIDATE_MIRRORS)
    for candidate in candidates:
        mirror = Path(candidate).expanduser()
        if (mirror / _PROVIDER_PATH).is_dir():
            return mirror
    raise TerraformUnavailableError(
        f"no filesystem mirror of hashicorp/aws {PROVIDER_VERSION} in {candidates}; "
        "set TF_PROVIDER_MIRROR to the folder holding registry.terraform.io/"
    )


def find_terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        raise TerraformUnavailableError("the terraform CLI (>= 1.10) is not on PATH")
    return binary


def write_cli_config(directory: Path) -> Path:
    """A CLI config that installs hashicorp/aws from the mirror only (no network)."""
    mirror = find_mirror()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "terraform.rc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
        "}\n",
        encoding="utf-8",
    )
    return config


def terraform_env(config: Path, data_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    if data_dir is not None:
        env["TF_DATA_DIR"] = str(data_dir)
    return env


def run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run `terraform <args>`; raise with Terraform's own output when it fails."""
    result = subprocess.run(  # noqa: S603 - fixed binary, arguments built by this project
        [find_terraform(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode not in (0, 2) or (result.returncode == 2 and "-detailed-exitcode" not in args):
        raise TerraformError(f"terraform {' '.join(args)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result
