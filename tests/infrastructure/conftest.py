from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PIPELINE
from tests.infrastructure.synth import SynthesizedApp, synthesize


@pytest.fixture(scope="session")
def other_app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    return synthesize("qa-2", tmp_path_factory.mktemp("synth-qa-2"), build_dir)


@pytest.fixture(scope="session")
def pipeline(app: SynthesizedApp) -> dict:
    return app.config(PIPELINE)


@pytest.fixture(scope="session")
def pipeline_json(app: SynthesizedApp) -> str:
    return app.testing_json[PIPELINE]
