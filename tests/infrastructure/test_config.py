"""Settings per environment: merging, and a clear error for every bad value (no provider import here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modules.config import CONFIG_DIR, ConfigError, environment_suffix, load_settings

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("suffix", ["dev", "prod", "pr-123", "a", "x" * 20])
def test_valid_suffixes(suffix: str) -> None:
    assert environment_suffix({"ENVIRONMENT_SUFFIX": suffix}) == suffix


def test_default_suffix_is_dev() -> None:
    assert environment_suffix({}) == "dev"


@pytest.mark.parametrize("suffix", ["", "Dev", "has space", "x" * 21, "-dev", "dev-", "dev_1", "dév"])
def test_invalid_suffixes_are_rejected_with_the_rule(suffix: str) -> None:
    with pytest.raises(ConfigError, match="lowercase letters, digits and '-'"):
        environment_suffix({"ENVIRONMENT_SUFFIX": suffix})


def test_main_stops_before_synth_on_a_bad_suffix() -> None:
    env = {**os.environ, "ENVIRONMENT_SUFFIX": "Bad Suffix"}
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "ENVIRONMENT_SUFFIX='Bad Suffix' is invalid" in result.stderr


def test_defaults_fill_every_setting_and_place_env_in_the_backend() -> None:
    settings = load_settings("staging", declared=True)
    assert settings.backend.bucket == "webhook-pipeline-tfstate-staging"
    assert settings.backend.key == "webhook-pipeline/staging/terraform.tfstate"
    # The bootstrap stack's alias for the environment: without it Terraform writes state with AES256.
    assert settings.backend.kms_key_id == "alias/webhook-pipeline-state-staging"
    assert settings.signature_tolerance_seconds == 300
    assert settings.operator_role_arn is None


def write(tmp_path: Path, default_changes: dict, override: dict | None = None) -> Path:
    default = json.loads((CONFIG_DIR / "default.json").read_text())
    for key, value in default_changes.items():
        if value is None and key.startswith("-"):
            default.pop(key[1:])
        else:
            default[key] = value
    (tmp_path / "default.json").write_text(json.dumps(default))
    if override is not None:
        (tmp_path / "qa.json").write_text(json.dumps(override))
    return tmp_path


def test_override_file_wins_and_merges_backend(tmp_path: Path) -> None:
    settings = load_settings(
        "qa", write(tmp_path, {}, {"router_memory_mb": 1024, "backend": {"bucket": "my-{env}-state"}})
    )
    assert settings.router_memory_mb == 1024
    assert settings.backend.bucket == "my-qa-state"
    assert settings.backend.key == "webhook-pipeline/qa/terraform.tfstate"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"router_memroy_mb": 512}, "unknown key 'router_memroy_mb'; did you mean 'router_memory_mb'?"),
        ({"router_memory_mb": "512"}, "'router_memory_mb' must be int"),
        ({"router_memory_mb": 64}, "'router_memory_mb' = 64 is outside 128..10240"),
        ({"deletion_protection": "yes"}, "'deletion_protection' must be bool"),
        ({"log_retention_days": 42}, "'log_retention_days' must be one of"),
        ({"alarm_email": "not-an-address"}, "is not an e-mail address"),
        ({"region": "mars-1"}, "is not an AWS region name"),
        (
            {"api_throttle_rate_limit": 500, "api_throttle_burst_limit": 10},
            "must be at least 'api_throttle_rate_limit'",
        ),
        ({"peak_events_per_second": 2000}, "'burst_events_per_second' must be at least 'peak_events_per_second'"),
        ({"api_execution_logging_level": "DEBUG"}, "'api_execution_logging_level' must be one of"),
        ({"validator_timeout_seconds": 30}, "outside 1..29"),
        ({"backend": {"key": "shared.tfstate"}}, "backend 'key' must contain"),
        ({"backend": {"bukket": "x"}}, "unknown key 'backend.bukket'; did you mean 'backend.bucket'?"),
        ({"backend": "s3"}, "'backend' must be an object"),
        ({"backend": {"kms_key_id": None}}, "backend 'kms_key_id' must name the state key"),
        ({"operator_role_arn": "arn:aws:iam::123:user/x"}, "'operator_role_arn' = 'arn:aws:iam::123:user/x' is not"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings("qa", write(tmp_path, {}, override))
    assert message in str(error.value)
    assert "qa.json" in str(error.value)


def test_missing_key_in_defaults_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing key 'event_ttl_days'"):
        load_settings("qa", write(tmp_path, {"-event_ttl_days": None}), declared=True)


def test_invalid_json_is_reported_with_the_path(tmp_path: Path) -> None:
    write(tmp_path, {})
    (tmp_path / "qa.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"qa\.json: not valid JSON"):
        load_settings("qa", tmp_path)


# --- an environment needs its own settings file (issue 14: `prd` silently built an environment on defaults)


def test_a_suffix_without_its_own_file_is_refused_with_the_way_to_create_it() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings("prd")
    message = str(error.value)
    assert "terraform-state-config/prd.json" in message
    assert "Did you mean 'prod'?" in message
    assert "echo '{}' > terraform-state-config/prd.json" in message


def test_every_environment_the_docs_use_has_its_own_file() -> None:
    for environment in ("dev", "prod"):
        assert load_settings(environment).environment == environment


def test_a_project_tool_may_declare_its_own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings("qa-9", declared=True).backend.key == "webhook-pipeline/qa-9/terraform.tfstate"
    monkeypatch.setenv("PIPELINE_DECLARED_ENVIRONMENT", "qa-9")
    assert load_settings("qa-9").environment == "qa-9"
    with pytest.raises(ConfigError, match="has no settings file"):
        load_settings("qa-8")  # declaring one environment does not open the door to others


@pytest.mark.parametrize("command", [["main.py"], ["-m", "pipeline_tools", "cost", "--events-per-month", "1000"]])
def test_make_synth_and_cost_refuse_a_typo(command: list[str]) -> None:
    env = {**os.environ, "ENVIRONMENT_SUFFIX": "prd"}
    env.pop("PIPELINE_DECLARED_ENVIRONMENT", None)
    result = subprocess.run(
        [sys.executable, *command], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "has no settings file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_key_names_the_file_that_holds_it_and_no_internal_key(tmp_path: Path) -> None:
    write(tmp_path, {}, {"router_memory_mb": 64})
    with pytest.raises(ConfigError) as error:
        load_settings("qa", tmp_path)
    assert str(error.value).startswith(f"{tmp_path / 'qa.json'}:")
    assert "default.json" not in str(error.value)
    with pytest.raises(ConfigError) as error:
        load_settings("qa", write(tmp_path, {"router_memory_mb": 64}, {}))
    assert str(error.value).startswith(f"{tmp_path / 'default.json'}:")
    with pytest.raises(ConfigError) as error:
        load_settings("qa", write(tmp_path, {}, {"enviroment": "x"}))
    assert "did you mean" not in str(error.value)  # 'environment' is filled by the loader, never offered


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"front_door": "http_api", "waf_enabled": True}, "cannot have 'waf_enabled'"),
        ({"typical_payload_bytes": "2048"}, "'typical_payload_bytes'"),
        ({"burst_events_per_second": -5}, "'burst_events_per_second' = -5 is outside"),
        ({"not_a_setting": 1}, "unknown settings ['not_a_setting']"),
    ],
)
def test_synth_stack_overrides_are_checked_as_a_settings_file_is(overrides: dict[str, Any], words: str) -> None:
    """`modules.testing.synth_stack`'s overrides promise a `ConfigError` naming the setting: they go through
    the same checks as a settings file's values, before any synth (which would otherwise build an HTTP API
    behind a WAF, or fail deep inside with a TypeError)."""
    from modules.testing import synth_stack

    with pytest.raises(ConfigError) as error:
        synth_stack("dev", **overrides)
    assert words in str(error.value) and "synth_stack overrides" in str(error.value)
