"""``python -m pytest_oscura compare OLD.json NEW.json``: output and exit codes."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_oscura.__main__ import main
from tests.unit._batches import batch

REPO = Path(__file__).resolve().parents[2]


def write_report(path: Path, records, summary=None) -> str:
    data = {"captures": [r.to_dict() for r in records], "summary": summary or {}}
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.fixture
def reports(tmp_path):
    old = write_report(tmp_path / "old.json", batch(1, n=60, groups=("a", "b")))
    same = write_report(tmp_path / "same.json", batch(2, n=60, groups=("a", "b")))
    drifted = write_report(
        tmp_path / "drifted.json", batch(3, n=60, groups=("a", "b"), scale=1.004)
    )
    return {"old": old, "same": same, "drifted": drifted, "dir": tmp_path}


class TestCompare:
    def test_clean_batch_passes(self, reports, capsys):
        assert main(["compare", reports["old"], reports["same"]]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"Comparing {reports['old']} (120 captures) → ")
        assert "a/m0  " in out
        assert "Gate: passed (drift)" in out

    def test_drifted_batch_fails_the_default_gate(self, reports, capsys):
        assert main(["compare", reports["old"], reports["drifted"]]) == 1
        out = capsys.readouterr().out
        assert "DRIFT" in out
        assert "Gate: FAILED (drift)" in out
        lines = [line for line in out.splitlines() if line.startswith("b/m3  ")]
        assert len(lines) == 1
        assert "+0.4" in lines[0]

    def test_gate_option_overrides(self, reports):
        assert main(["compare", reports["old"], reports["drifted"], "--gate", "none"]) == 0
        assert main(["compare", reports["old"], reports["same"], "--gate", "quality>=100"]) == 0

    def test_quality_gate(self, reports):
        records = batch(2, n=60, groups=("a",))
        records[0] = dataclasses.replace(records[0], outcome="failed")
        new = write_report(reports["dir"] / "q.json", records)
        assert main(["compare", reports["old"], new, "--gate", "quality>=100"]) == 1
        assert main(["compare", reports["old"], new, "--gate", "quality>=98"]) == 0

    def test_gate_recorded_in_the_new_report(self, reports):
        records = batch(3, n=60, groups=("a", "b"), scale=1.004)
        new = write_report(reports["dir"] / "g.json", records, {"gate": {"spec": "none"}})
        assert main(["compare", reports["old"], new]) == 0

    def test_outlier_gate(self, reports, capsys):
        records = batch(2, n=60, groups=("a",))
        records[7] = dataclasses.replace(
            records[7], measurements={**records[7].measurements, "m2": 99.0}
        )
        new = write_report(reports["dir"] / "o.json", records)
        assert main(["compare", reports["old"], new, "--gate", "outliers"]) == 1
        assert "a/cap_0007.npz::CH1 m2" in capsys.readouterr().out
        assert (
            main(["compare", reports["old"], new, "--gate", "outliers", "--outliers", "none"]) == 0
        )

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (None, "cannot read"),
            ("{not json", "not a JSON report"),
            ('{"summary": {}}', "no 'captures' list"),
            ('{"captures": [{"group": "a"}]}', "needs a string 'key'"),
            ('{"captures": [{"key": "k", "measurements": {"x": "1.0"}}]}', "is not a number"),
        ],
    )
    def test_unreadable_reports_exit_2(self, reports, capsys, content, message):
        bad = reports["dir"] / "bad.json"
        if content is not None:
            bad.write_text(content, encoding="utf-8")
        assert main(["compare", reports["old"], str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"python -m pytest_oscura compare: {bad}: ")
        assert message in err
        assert "\n" not in err

    def test_bad_gate_exits_2(self, reports, capsys):
        assert main(["compare", reports["old"], reports["same"], "--gate", "qualty>=9"]) == 2
        assert "unknown gate item 'qualty>=9'" in capsys.readouterr().err

    @pytest.mark.parametrize(
        "argv",
        [[], ["compare"], ["compare", "a.json"], ["frobnicate"], ["compare", "a", "b", "-x"]],
    )
    def test_usage_errors_exit_2(self, argv, capsys):
        assert main(argv) == 2
        assert "usage:" in capsys.readouterr().err

    def test_help_exits_0(self, capsys):
        assert main(["compare", "--help"]) == 0
        assert "OLD.json" in capsys.readouterr().out

    def test_module_entry_point(self, reports):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        run = subprocess.run(
            [sys.executable, "-m", "pytest_oscura", "compare", reports["old"], reports["drifted"]],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert run.returncode == 1, run.stderr
        assert "Gate: FAILED (drift)" in run.stdout
