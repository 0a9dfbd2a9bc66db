"""Session-wide synthesis shared by the construct tests and the static checks: the AWS provider is
imported once per test session, and each configuration is synthesized once. Every synth of the suite
writes to a temporary folder: `cdktf.out/` stays exactly as the user's last `make synth` left it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.infrastructure.synth import SynthesizedApp, synthesize

# No per-example deadline: the suite shares 2 cores with synths and the sandbox, and a slow example
# (a GC pause, a cold import) is not a failure of what these properties assert. Speed is measured in
# `make bench`, never in a test.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

ENVIRONMENT = "test"  # default.json only
# The environment whose config file configures one source of every provider.
SOURCES_ENVIRONMENT = "sandbox"
PIPELINE = f"webhook-pipeline-{ENVIRONMENT}"
CDKTF_OUT = Path(__file__).resolve().parents[1] / "cdktf.out"


def tree_fingerprint(root: Path) -> dict[str, tuple[int, int]] | None:
    """(size, mtime in ns) of every file and folder under `root`, by relative path; None if absent."""
    if not root.exists():
        return None
    return {
        path.relative_to(root).as_posix(): (path.lstat().st_size, path.lstat().st_mtime_ns)
        for path in [root, *root.rglob("*")]
    }


@pytest.fixture(scope="session", autouse=True)
def cdktf_out_untouched() -> Iterator[None]:
    """Fails the session (an error at the last teardown) if any test wrote into cdktf.out/."""
    before = tree_fingerprint(CDKTF_OUT)
    yield
    after = tree_fingerprint(CDKTF_OUT)
    if before != after:
        changed = sorted(set((before or {}).items()) ^ set((after or {}).items()))[:10]
        pytest.fail(f"the test session changed {CDKTF_OUT}: {changed}")


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


# A fixture environment (not a deployable one): default.json + tests/fixtures/environments/httpapi.json,
# the HTTP API front door with provider sources (docs/FRONT-DOOR.md).
HTTP_API_ENVIRONMENT = "httpapi"
FIXTURE_ENVIRONMENTS = Path(__file__).resolve().parent / "fixtures" / "environments"


def fixture_config_dir(environment: str, into: Path) -> Path:
    """A settings folder holding the project's default.json and the fixture environment's file."""
    from modules.config import CONFIG_DIR

    into.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CONFIG_DIR / "default.json", into / "default.json")
    shutil.copyfile(FIXTURE_ENVIRONMENTS / f"{environment}.json", into / f"{environment}.json")
    return into


@pytest.fixture(scope="session")
def http_api_app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    """default.json + the httpapi fixture: `front_door: "http_api"`, four provider sources."""
    config_dir = fixture_config_dir(HTTP_API_ENVIRONMENT, tmp_path_factory.mktemp("config-httpapi"))
    return synthesize(HTTP_API_ENVIRONMENT, tmp_path_factory.mktemp("synth-httpapi"), build_dir, config_dir=config_dir)


@pytest.fixture(scope="session")
def prod_app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    """default.json + prod.json: WAF on, reserved concurrency raised."""
    return synthesize("prod", tmp_path_factory.mktemp("synth-prod"), build_dir)
