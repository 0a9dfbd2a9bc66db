"""The package installs on its own and works with only its declared dependencies (none): built into a
wheel from a copy of consumer/, installed offline (`--no-index`) into a fresh virtualenv with no other
package, then imported and used there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

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


def test_the_wheel_installs_into_a_fresh_virtualenv_and_works(tmp_path: Path) -> None:
    source = tmp_path / "consumer"
    shutil.copytree(CONSUMER_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(wheels), str(source)], check=True)  # fmt: skip
    [wheel] = wheels.glob("webhook_pipeline_consumer-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith("METADATA"))).decode()
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert all("extra ==" in line for line in requirements), requirements  # nothing required but extras
    assert any("boto3" in line and 'extra == "dynamodb"' in line for line in requirements)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index", "--no-deps",
                    str(wheel)], check=True)  # fmt: skip
    refund = Fact("psp:e2", "refund", "succeeded", "re_1", 7, Decimal("3.00"))
    older = Fact("psp:e1", "refund", "reversed", "re_1", 6, Decimal("3.00"))  # an older money fact: stale
    records = [fact_record(refund, "m-1"), fact_record(refund, "m-2"), fact_record(older, "m-3")]
    (tmp_path / "records.json").write_text(json.dumps(records))
    run = subprocess.run([str(python), "-I", "-c", SCRIPT, str(tmp_path / "records.json")], cwd=tmp_path,
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["file"].startswith(str(venv))
    assert report == report | {"response": {"batchItemFailures": []}, "writes": ["psp:e2"], "stale": 1,
                               "duplicates": 1, "missing": "boto3", "schema": "1.0.0"}  # fmt: skip
