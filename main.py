#!/usr/bin/env python
"""CDKTF app: `webhook-pipeline-<env>` and `state-bootstrap` for ENVIRONMENT_SUFFIX (default `dev`)."""

from __future__ import annotations

import sys

from modules.config import ConfigError, environment_suffix, load_settings


def main() -> int:
    try:
        settings = load_settings(environment_suffix())
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Imported only after the settings are known to be good: the provider import alone takes ~10 s.
    from cdktf import App

    from modules.lambda_package import build_lambda_package
    from modules.pipeline_stack import WebhookPipelineStack
    from modules.state_bootstrap_stack import StateBootstrapStack

    app = App()
    WebhookPipelineStack(app, settings=settings, package=build_lambda_package())
    StateBootstrapStack(app, settings=settings)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
