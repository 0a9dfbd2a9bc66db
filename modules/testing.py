"""Your own CDKTF tests: synthesize an environment's stack to the JSON string `cdktf.Testing` expects.

    import cdktf
    from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
    from modules.testing import synth_stack

    def test_payments_dlq_keeps_messages_14_days() -> None:
        stack = synth_stack("dev")
        assert cdktf.Testing.to_have_resource_with_properties(
            stack, SqsQueue.TF_RESOURCE_TYPE, {"name": "payments-dlq-dev", "message_retention_seconds": 1209600}
        )

Why a helper (hashicorp/terraform-cdk's Python `Testing`): `Testing.synth_scope` does not work from
Python, so the stack is built in `Testing.app()` and passed to `Testing.synth`; `Testing.app()` leaves a
folder in the temp dir unless given `outdir`; the stack needs this project's settings and Lambda zip.
`Testing.to_have_resource*` return a bare `bool` and drop `None` values (absence cannot be asserted
with them: parse the JSON for that). Import `cdktf` rather than `Testing` into a test module: pytest
tries to collect any class whose name starts with `Test`.

Cost: the first call imports the AWS provider bindings (~4 s with this project's loader, ~0.7 GB);
each environment is synthesized once per process (cached), about a second after the first.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from typing import Any

from modules.config import load_settings, with_overrides


def synth_stack(environment: str = "dev", **overrides: Any) -> str:
    """`Testing.synth` JSON of `webhook-pipeline-<environment>` (str; sorted keys, no metadata).

    `environment` is read from `terraform-state-config/` like `make synth` does (`<environment>.json`
    over `default.json`; an environment without a file of its own uses `default.json`);
    `overrides` replace settings by name (`waf_enabled=True`), e.g. to test your change before you
    write it into the file. Raises `modules.config.ConfigError` for a bad setting, naming it.
    """
    return _synth(environment, tuple(sorted(overrides.items())))


def _quiet_node() -> None:
    """What `make` exports, for a `pytest` run outside it: no Node end-of-life banner from jsii."""
    if "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" in os.environ or not shutil.which("node"):
        return
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = version.strip().lstrip("v").split(".")[0]


@functools.cache
def _synth(environment: str, overrides: tuple[tuple[str, Any], ...]) -> str:
    _quiet_node()
    from cdktf import Testing

    from modules.lambda_package import build_lambda_package
    from modules.pipeline_stack import WebhookPipelineStack

    settings = with_overrides(load_settings(environment, declared=True), dict(overrides), "synth_stack overrides")
    app = Testing.app(outdir=tempfile.mkdtemp(prefix="cdktf-testing-"))
    stack = WebhookPipelineStack(app, settings=settings, package=build_lambda_package())
    return str(Testing.synth(stack))
