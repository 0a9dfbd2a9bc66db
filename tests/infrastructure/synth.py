"""Synthesis for the construct tests: the AWS provider is imported once per test session."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from modules.config import CONFIG_DIR, load_settings
from modules.lambda_package import build_lambda_package


@dataclasses.dataclass(frozen=True)
class SynthesizedApp:
    outdir: Path
    testing_json: dict[str, str]  # stack name -> `Testing.synth` output

    def stack_file(self, stack: str) -> Path:
        return self.outdir / "stacks" / stack / "cdk.tf.json"

    def config(self, stack: str) -> dict[str, Any]:
        return json.loads(self.stack_file(stack).read_text())


def synthesize(
    environment: str, outdir: Path, build_dir: Path, *, config_dir: Path = CONFIG_DIR, **overrides: Any
) -> SynthesizedApp:
    """`config_dir`: where `default.json` and `<environment>.json` are read (a test fixture environment)."""
    from cdktf import App, Testing

    from modules.pipeline_stack import WebhookPipelineStack
    from modules.state_bootstrap_stack import StateBootstrapStack

    settings = dataclasses.replace(load_settings(environment, config_dir, declared=True), **overrides)
    app = App(outdir=str(outdir))
    stacks = [
        WebhookPipelineStack(app, settings=settings, package=build_lambda_package(build_dir=build_dir)),
        StateBootstrapStack(app, settings=settings),
    ]
    testing_json = {stack.node.id: Testing.synth(stack) for stack in stacks}
    app.synth()
    return SynthesizedApp(outdir=outdir, testing_json=testing_json)
