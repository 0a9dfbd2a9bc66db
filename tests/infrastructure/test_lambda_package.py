"""The Lambda zip: deterministic, minimal, and hashed the way Lambda reports CodeSha256."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from modules.lambda_package import build_lambda_package

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


@pytest.fixture
def handlers_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "handlers"
    shutil.copytree(HANDLERS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "validator.cpython-311.pyc").write_bytes(b"stale")
    (copy / "tests").mkdir()
    (copy / "tests" / "test_x.py").write_text("x = 1\n")
    return copy


def test_two_builds_in_different_places_are_byte_identical(handlers_copy: Path, tmp_path: Path) -> None:
    first = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path / "a")
    (handlers_copy / "validator.py").touch()  # a new mtime must not matter
    second = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.source_code_hash == second.source_code_hash


def test_source_code_hash_is_base64_sha256_of_the_zip(handlers_copy: Path, tmp_path: Path) -> None:
    package = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    assert package.source_code_hash == base64.b64encode(hashlib.sha256(package.path.read_bytes()).digest()).decode()
    assert package.size_bytes == package.path.stat().st_size


def test_any_code_change_changes_the_hash(handlers_copy: Path, tmp_path: Path) -> None:
    before = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    (handlers_copy / "routing.py").write_text((handlers_copy / "routing.py").read_text() + "\n# changed\n")
    after = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    assert before.source_code_hash != after.source_code_hash
    assert before.path != after.path


def test_zip_holds_handlers_vendored_packages_and_their_bytecode_but_no_tests(
    handlers_copy: Path, tmp_path: Path
) -> None:
    package = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    with zipfile.ZipFile(package.path) as archive:
        names = archive.namelist()
        infos = archive.infolist()
        validator_pyc = archive.read("__pycache__/validator.cpython-311.pyc")
        validator_source = archive.read("validator.py")
    assert names == sorted(names)
    assert {
        "validator.py",
        "router.py",
        "event_schema.json",
        "payload-dictionary-1.bin",  # zlib-dict-1 reads it at import (payload_codec)
        "fastjsonschema/__init__.py",
        "aws_lambda_powertools/__init__.py",
        "aws_lambda_powertools/__pycache__/__init__.cpython-311.pyc",
    } <= set(names)
    sources = {name for name in names if name.endswith(".py")}
    pycs = {name for name in names if name.endswith(".pyc")}
    assert len(pycs) == len(sources) and not any(name.startswith("tests/") for name in names)
    # Unchecked hash-based byte-code of exactly this source: no timestamp in it, nothing to re-check.
    assert validator_pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(validator_pyc[4:8], "little") == 0b01
    assert validator_pyc[8:16] == importlib.util.source_hash(validator_source)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_shipped_bytecode_is_what_python_runs(handlers_copy: Path, tmp_path: Path) -> None:
    """Import from the extracted zip, as from /var/task: with the sources made unusable, the imports
    still work, so Python runs the shipped byte-code and compiles nothing at a cold start."""
    package = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path / "build")
    task = tmp_path / "task"
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(task)
    for module in ("fastjsonschema/__init__.py", "canonical_json.py"):
        (task / module).write_text("raise SystemExit('the source was compiled, not the shipped byte-code')\n")
    probe = f"import sys; sys.path.insert(0, {str(task)!r}); import fastjsonschema, canonical_json; print('ok')"
    result = subprocess.run([sys.executable, "-I", "-B", "-c", probe], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "ok", result.stdout + result.stderr


def test_unchanged_handlers_are_not_rebuilt(handlers_copy: Path, tmp_path: Path) -> None:
    first = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    mtime = first.path.stat().st_mtime_ns
    second = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    assert second.path == first.path and second.path.stat().st_mtime_ns == mtime
