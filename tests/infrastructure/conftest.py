from __future__ import annotations

from pathlib import Path

import pytest

from tests.infrastructure.synth import SynthesizedApp, synthesize

ENVIRONMENT = "test"
PIPELINE = f"webhook-pipeline-{ENVIRONMENT}"


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lambda-build")


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    return synthesize(ENVIRONMENT, tmp_path_factory.mktemp("synth-test"), build_dir)


@pytest.fixture(scope="session")
def other_app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    return synthesize("qa-2", tmp_path_factory.mktemp("synth-qa-2"), build_dir)


@pytest.fixture(scope="session")
def pipeline(app: SynthesizedApp) -> dict:
    return app.config(PIPELINE)


@pytest.fixture(scope="session")
def pipeline_json(app: SynthesizedApp) -> str:
    return app.testing_json[PIPELINE]
