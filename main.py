#!/usr/bin/env python
"""CDKTF app: `webhook-pipeline-<env>` and `state-bootstrap` for ENVIRONMENT_SUFFIX (default `dev`).

Importing `modules` installs the fast-path loader of the AWS provider bindings
(`modules/provider_loader.py`); `CDKTF_AWS_PROVIDER_IMPORT=eager` forces the package's eager import.
"""

from __future__ import annotations

import sys
from pathlib import Path

from modules.config import ConfigError, PipelineSettings, environment_suffix, load_settings


def synthesize(settings: PipelineSettings, outdir: Path | None = None) -> None:
    """Write both stacks for `settings` under `outdir` (created if missing; default: `$CDKTF_OUTDIR`,
    else `cdktf.out`)."""
    # Imported only after the settings are known to be good: the provider import is most of a synth.
    from cdktf import App

    from modules.lambda_package import build_lambda_package
    from modules.pipeline_stack import WebhookPipelineStack
    from modules.state_bootstrap_stack import StateBootstrapStack

    if outdir:
        outdir.mkdir(parents=True, exist_ok=True)  # cdktf creates only the last level
    app = App(outdir=str(outdir) if outdir else None)
    WebhookPipelineStack(app, settings=settings, package=build_lambda_package())
    StateBootstrapStack(app, settings=settings)
    app.synth()


def capacity_warnings(settings: PipelineSettings) -> tuple[str, ...]:
    """What the capacity model warns about without refusing (modules/capacity.py: a route that cannot
    carry the environment's whole contract, e.g. a mollie-classic source under the WAF). A contract the
    settings cannot meet at all is refused by the synth itself, naming the limit."""
    from modules.capacity import CapacityError, plan_capacity

    try:
        return plan_capacity(settings).warnings
    except CapacityError:
        return ()  # the stack's own plan_capacity raises it, as before


def main() -> int:
    try:
        settings = load_settings(environment_suffix())
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Printed, not refused: the contract is every route's together (README "Capacity").
    for warning in capacity_warnings(settings):
        print(f"warning: {warning}", file=sys.stderr)
    synthesize(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
