"""`make sandbox` refuses `front_door: "http_api"` before starting anything, saying why (docs/FRONT-DOOR.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import modules.config
from pipeline_tools.__main__ import main
from pipeline_tools.sandbox.runner import SandboxError, check_front_door


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "default.json").write_text((modules.config.CONFIG_DIR / "default.json").read_text())
    (config / "door.json").write_text(json.dumps({"front_door": "http_api"}))
    (config / "rest.json").write_text("{}")
    monkeypatch.setattr(modules.config, "CONFIG_DIR", config)
    monkeypatch.setattr(modules.config.load_settings, "__defaults__", (config,))
    return config


def test_an_http_api_environment_is_refused_naming_the_reason(config_dir: Path) -> None:
    with pytest.raises(SandboxError, match="emulates the REST API only, so it cannot serve an HTTP API"):
        check_front_door("door")
    check_front_door("rest")  # the REST front door: nothing to refuse


def test_the_sandbox_command_exits_1_before_starting_anything(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "door")
    state = tmp_path / "state"
    assert main(["sandbox", "--state-dir", str(state), "--no-synth"]) == 1
    assert "front_door 'http_api'" in capsys.readouterr().err
    assert not (state / "door" / "outputs.json").exists()
