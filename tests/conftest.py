"""Session-wide synthesis shared by the construct tests and the static checks: the AWS provider is
imported once per test session, and each configuration is synthesized once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infrastructure.synth import SynthesizedApp, synthesize

ENVIRONMENT = "test"  # default.json only
# The environment whose config file configures one source of every provider.
SOURCES_ENVIRONMENT = "sandbox"
PIPELINE = f"webhook-pipeline-{ENVIRONMENT}"


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lambda-build")


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    return synthesize(ENVIRONMENT, tmp_path_factory.mktemp("synth-test"), build_dir)


@pytest.fixture(scope="session")
def sources_app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    """default.json + sandbox.json: one source of every provider (routes, secrets, alarms)."""
    return synthesize(SOURCES_ENVIRONMENT, tmp_path_factory.mktemp("synth-sources"), build_dir)


@pytest.fixture(scope="session")
def prod_app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    """default.json + prod.json: WAF on, reserved concurrency raised."""
    return synthesize("prod", tmp_path_factory.mktemp("synth-prod"), build_dir)
