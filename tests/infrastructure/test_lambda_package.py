"""The Lambda zip: deterministic, minimal, and hashed the way Lambda reports CodeSha256."""

from __future__ import annotations

import base64
import hashlib
import shutil
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


def test_zip_holds_handlers_and_vendored_packages_without_bytecode_or_tests(
    handlers_copy: Path, tmp_path: Path
) -> None:
    package = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    with zipfile.ZipFile(package.path) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert names == sorted(names)
    assert {
        "validator.py",
        "router.py",
        "event_schema.json",
        "fastjsonschema/__init__.py",
        "aws_lambda_powertools/__init__.py",
    } <= set(names)
    assert not any(name.endswith(".pyc") or "__pycache__" in name or name.startswith("tests/") for name in names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_unchanged_handlers_are_not_rebuilt(handlers_copy: Path, tmp_path: Path) -> None:
    first = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    mtime = first.path.stat().st_mtime_ns
    second = build_lambda_package(handlers_dir=handlers_copy, build_dir=tmp_path)
    assert second.path == first.path and second.path.stat().st_mtime_ns == mtime
