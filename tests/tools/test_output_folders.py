"""The suite keeps cdktf.out/ as `make synth` left it: the check that would notice, and the sandbox's folder."""

from __future__ import annotations

from pathlib import Path

from pipeline_tools.sandbox.runner import PROJECT_ROOT, Sandbox
from tests.conftest import CDKTF_OUT, tree_fingerprint


def test_the_fingerprint_notices_a_rewritten_file(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "cdk.tf.json").write_text("{}")
    before = tree_fingerprint(tmp_path)
    (tmp_path / "stacks" / "cdk.tf.json").write_text("{} ")
    assert tree_fingerprint(tmp_path) != before
    assert tree_fingerprint(tmp_path / "absent") is None


def test_the_sandbox_synthesizes_and_applies_in_the_folder_it_is_given(tmp_path: Path) -> None:
    assert Sandbox("sb", tmp_path / "o.json", outdir=tmp_path).stack_dir == tmp_path / "stacks" / "webhook-pipeline-sb"
    # By default its own folder (issue 22): `make sandbox` and `npx cdktf synth` no longer share cdktf.out/.
    assert Sandbox("sb", tmp_path / "o.json").stack_dir.parent.parent == PROJECT_ROOT / ".sandbox" / "sb" / "cdktf.out"
    assert PROJECT_ROOT / "cdktf.out" == CDKTF_OUT
