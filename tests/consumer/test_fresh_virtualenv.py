"""The package installs on its own and works with only its declared dependencies: built into a wheel from
a copy of consumer/, installed offline (`--no-index --no-deps`) into a fresh virtualenv with no other
package, then imported and used there; with the `[dynamodb]` extra, exactly the distributions its
declared requirements resolve to (taken from this environment, as from a wheel cache) are added, and the
DynamoDB store commits through them."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.consumer.conftest import CONSUMER_DIR
from tests.consumer.messages import Fact, fact_record

SCRIPT = """
import json, sys
from decimal import Decimal
import webhook_consumer as wc
records = json.load(open(sys.argv[1]))
event = wc.parse(records[0])
assert event.amount == Decimal("3.00") and event.timestamp.tzinfo is not None, event
store = wc.MemoryStore()
result = wc.process_batch({"Records": records}, lambda e, c: wc.Change(writes=[e.event_id]), store=store)
try:
    wc.DynamoDBStore("t")
except ModuleNotFoundError as error:
    missing = error.name
print(json.dumps({"response": result.response(), "writes": store.writes, "stale": len(result.stale),
                  "duplicates": len(result.duplicates), "missing": missing, "file": wc.__file__,
                  "schema": wc.schema_version()}))
"""

# The DynamoDB store in the venv, through boto3's own stubber (no network): one new fact is read twice
# (event id, object) and committed in one transaction.
DYNAMODB_SCRIPT = """
import json, sys
import boto3
from botocore.stub import ANY, Stubber
import webhook_consumer as wc
records = json.load(open(sys.argv[1]))
client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
stub = Stubber(client)
for _ in range(2):
    stub.add_response("get_item", {}, {"TableName": "t", "Key": ANY, "ConsistentRead": True})
stub.add_response("transact_write_items", {}, {"TransactItems": ANY})
with stub:
    result = wc.process_batch({"Records": records[:1]}, lambda e, c: wc.Change(state={"v": 1}),
                              store=wc.DynamoDBStore("t", client=client))
    stub.assert_no_pending_responses()
print(json.dumps({"response": result.response(), "applied": len(result.applied), "boto3": boto3.__file__}))
"""


def _wheel(tmp_path: Path) -> Path:
    source = tmp_path / "consumer"
    shutil.copytree(CONSUMER_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(wheels), str(source)], check=True)  # fmt: skip
    [wheel] = wheels.glob("webhook_pipeline_consumer-*.whl")
    return wheel


def _requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith("METADATA"))).decode()
    return [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist:")]


def _venv(tmp_path: Path, wheel: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index", "--no-deps",
                    str(wheel)], check=True)  # fmt: skip
    return python


def _closure(requirements: list[str], extra: str) -> set[str]:
    """The distributions `requirements` (for `extra`) resolve to, transitively, without their own extras."""
    wanted = [Requirement(r) for r in requirements]
    todo = [r for r in wanted if r.marker is not None and r.marker.evaluate({"extra": extra})]
    found: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name in found:
            continue
        distribution = importlib.metadata.distribution(name)
        assert requirement.specifier.contains(distribution.version, prereleases=True), (name, distribution.version)
        found.add(name)
        for line in distribution.requires or []:
            nested = Requirement(line)
            if nested.marker is None or nested.marker.evaluate({"extra": ""}):
                todo.append(nested)
    return found


def _expose(distributions: set[str], folder: Path) -> None:
    """Symlink exactly these distributions' top-level modules into `folder` (a wheel cache's contents)."""
    folder.mkdir()
    for name in distributions:
        distribution = importlib.metadata.distribution(name)
        for top in {Path(str(f)).parts[0] for f in distribution.files or []}:
            target = Path(str(distribution.locate_file(top)))
            if top.endswith((".dist-info", "__pycache__")) or top == ".." or not target.exists():
                continue
            (folder / top).symlink_to(target)


def _records(tmp_path: Path) -> Path:
    refund = Fact("psp:e2", "refund", "succeeded", "re_1", 7, Decimal("3.00"))
    older = Fact("psp:e1", "refund", "reversed", "re_1", 6, Decimal("3.00"))  # an older money fact: stale
    path = tmp_path / "records.json"
    path.write_text(json.dumps([fact_record(refund, "m-1"), fact_record(refund, "m-2"), fact_record(older, "m-3")]))
    return path


def _run(python: Path, script: str, records: Path) -> dict:
    run = subprocess.run([str(python), "-I", "-c", script, str(records)], cwd=records.parent,
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _wheel(tmp_path_factory.mktemp("consumer-wheel"))


def test_the_wheel_installs_into_a_fresh_virtualenv_and_works(wheel: Path, tmp_path: Path) -> None:
    requirements = _requirements(wheel)
    assert all("extra ==" in line for line in requirements), requirements  # nothing required but extras
    assert any("boto3" in line and 'extra == "dynamodb"' in line for line in requirements)
    python = _venv(tmp_path, wheel)
    report = _run(python, SCRIPT, _records(tmp_path))
    assert report["file"].startswith(str(tmp_path / "venv"))
    assert report == report | {"response": {"batchItemFailures": []}, "writes": ["psp:e2"], "stale": 1,
                               "duplicates": 1, "missing": "boto3", "schema": "1.0.0"}  # fmt: skip


def test_the_dynamodb_extra_needs_only_what_it_declares(wheel: Path, tmp_path: Path) -> None:
    closure = _closure(_requirements(wheel), "dynamodb")
    assert {"boto3", "botocore"} <= closure and "moto" not in closure
    python = _venv(tmp_path, wheel)
    _expose(closure, tmp_path / "cache")
    [site] = (tmp_path / "venv" / "lib").glob("python*/site-packages")
    (site / "wheel-cache.pth").write_text(str(tmp_path / "cache") + "\n")
    report = _run(python, DYNAMODB_SCRIPT, _records(tmp_path))
    assert report["boto3"].startswith(str(tmp_path / "cache"))
    assert report["response"] == {"batchItemFailures": []} and report["applied"] == 1
