"""The guard's fresh process: `python -m tests.infrastructure.eager_synth OUT ENV [ENV ...]`.

Run from a copy of the tree with `CDKTF_AWS_PROVIDER_IMPORT=eager`: synthesizes every ENV with
`main.synthesize` (what `cdktf synth` runs) into OUT/<ENV>, and writes OUT/loader.json (the provider
loader's state and how many provider submodules were imported) so the test can check which path ran.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

from main import synthesize
from modules import provider_loader
from modules.config import load_settings


def run(out: Path, environments: list[str]) -> None:
    for environment in environments:
        synthesize(load_settings(environment), out / environment)
    state = {**dataclasses.asdict(provider_loader.STATE), "loaded": len(provider_loader.loaded_submodules())}
    (out / "loader.json").write_text(json.dumps(state, indent=2), encoding="utf-8")


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2:])
    # Everything is on disk (app.synth() returns after node wrote it). Skipping the interpreter's
    # shutdown saves the seconds it spends tearing down the eagerly imported package's ~1 M
    # objects; jsii's node process ends when its stdin closes.
    sys.stdout.flush()
    os._exit(0)
