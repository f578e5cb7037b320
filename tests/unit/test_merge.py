"""``python -m pytest_oscura merge`` on shard reports written by the plugin's own controller.

Each shard report is made the way a shard run makes it (:class:`Controller` with a shard, its
records arriving as test reports), from synthetic records, so that every refusal can be
provoked on purpose without running pytest.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_oscura.__main__ import main
from pytest_oscura.aggregate import parse_gate
from pytest_oscura.controller import Controller
from pytest_oscura.finish import summarize_batch, update_baseline_entries, write_baseline
from pytest_oscura.records import RECORD_PROPERTY, SOURCE_PROPERTY, CaptureRecord
from pytest_oscura.report import merge as merge_module
from pytest_oscura.shards import Shard
from pytest_oscura.suite import CaptureRoot

PREFIX = "python -m pytest_oscura merge: "


def records(n: int, scale: float = 1.0) -> list[CaptureRecord]:
    return [
        CaptureRecord(
            key=f"f{index:03d}.npy::CH1",
            root="caps",
            group="caps",
            channel="CH1",
            measurements={"rms": scale * (1.0 + 0.001 * (index % 7)), "mean": 0.01 * index},
            nodeid=f"caps/f{index:03d}.npy::CH1",
        )
        for index in range(n)
    ]


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A captures root ``caps`` (no capture files needed) with a baseline of 30 captures."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")
    caps = tmp_path / "caps"
    caps.mkdir()
    (caps / "oscura.toml").write_text("[defaults]\nsample_rate_hz = 1e5\n")
    update = update_baseline_entries(None, records(30), [], whole_suite=True)
    write_baseline(caps / "oscura-baseline.json", update)
    return caps


def shard_report(
    caps: Path,
    name: str,
    shard: Shard | None,
    batch: list[CaptureRecord],
    *,
    gate: str = "drift",
    outliers: str = "mad",
    interrupted: bool = False,
    crashed: tuple[str, ...] = (),
) -> str:
    """Write shard ``shard``'s report of ``batch`` as a shard run's controller writes it."""
    root = CaptureRoot.open(caps, "caps", None)
    controller = Controller(
        [root],
        False,
        caps.parent / name,
        caps.parent,
        outlier_method=outliers,
        gate=parse_gate(gate),
        shard=shard,
    )
    controller.crashed_workers.extend(crashed)
    for record in batch:
        if shard is not None and not shard.holds_key(record.key):
            continue
        text = json.dumps(record.to_dict())
        controller.on_report(record.nodeid, "setup", "passed", [(SOURCE_PROPERTY, "measured")])
        controller.on_report(record.nodeid, "call", "passed", [(RECORD_PROPERTY, text)])
    controller.finish(stopped="the run was interrupted" if interrupted else None, whole_suite=True)
    return name


def three(caps: Path, batch: list[CaptureRecord], **kwargs) -> list[str]:
    return [shard_report(caps, f"s{k}.json", Shard(k, 3), batch, **kwargs) for k in (1, 2, 3)]


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["merge", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line
    assert err.startswith(PREFIX)
    return err.removeprefix(PREFIX).rstrip("\n")


def test_merged_summary_is_summarize_batch_over_all_shards(suite: Path) -> None:
    batch = records(30, scale=1.004)  # drifted: the drift gate fails
    shards = three(suite, batch)
    assert main(["merge", *shards, "--report", "m.json"]) == 1
    merged = json.loads(Path("m.json").read_text())
    root = CaptureRoot.open(suite, "caps", None)
    expected = summarize_batch(batch, {"caps": root.baseline()}, "mad", parse_gate("drift"))
    assert merged["summary"] == json.loads(json.dumps(expected))
    assert [c["key"] for c in merged["captures"]] == [r.key for r in batch]
    assert merged["run"]["whole_suite"] is True
    assert merged["shard"] is None
    assert merged["merged_from"][1] == {"report": "s2.json", "shard": {"index": 2, "count": 3}}


def test_gate_and_outliers_can_be_overridden(suite: Path) -> None:
    shards = three(suite, records(30, scale=1.004))
    assert main(["merge", *shards, "--report", "m.json", "--gate", "none"]) == 0
    assert (
        main(["merge", *shards, "--report", "m.json", "--outliers", "iqr", "--gate", "none"]) == 0
    )
    merged = json.loads(Path("m.json").read_text())
    assert merged["summary"]["outliers"]["method"] == "iqr"
    assert merged["run"]["outliers"] == "iqr"


def test_unsharded_report_merges_alone(suite: Path) -> None:
    name = shard_report(suite, "all.json", None, records(30))
    assert main(["merge", name, "--report", "m.json"]) == 0
    single = json.loads(Path("all.json").read_text())
    merged = json.loads(Path("m.json").read_text())
    assert merged["summary"] == single["summary"]
    assert merged["captures"] == single["captures"]
    assert merged["run"] == single["run"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"gate": "outliers"},
            "different settings: gate 'drift' in s1.json, 'outliers' in s2.json",
        ),
        (
            {"outliers": "iqr"},
            "different settings: outlier method 'mad' in s1.json, 'iqr' in s2.json",
        ),
    ],
)
def test_different_settings_are_refused(suite, capsys, change, message) -> None:
    batch = records(30)
    shards = [
        shard_report(suite, "s1.json", Shard(1, 3), batch),
        shard_report(suite, "s2.json", Shard(2, 3), batch, **change),
    ]
    assert refused(capsys, *shards, "--report", "m.json") == message
    assert not Path("m.json").exists()


def test_different_oscura_toml_is_refused(suite: Path, capsys) -> None:
    batch = records(30)
    first = shard_report(suite, "s1.json", Shard(1, 3), batch)
    (suite / "oscura.toml").write_text("[defaults]\nsample_rate_hz = 2e5\n")
    second = shard_report(suite, "s2.json", Shard(2, 3), batch)
    assert refused(capsys, first, second, "--report", "m.json").startswith(
        "different settings: oscura.toml ["
    )


def test_different_shard_counts_and_mixed_unsharded_are_refused(suite: Path, capsys) -> None:
    batch = records(30)
    a = shard_report(suite, "a.json", Shard(1, 3), batch)
    b = shard_report(suite, "b.json", Shard(2, 4), batch)
    c = shard_report(suite, "c.json", None, batch)
    assert refused(capsys, a, b, "--report", "m.json") == (
        "different shard counts: a.json (shard 1/3) and b.json (shard 2/4); merge the shards of "
        "one run"
    )
    assert refused(capsys, a, c, "--report", "m.json").startswith(
        "different shard counts: a.json (shard 1/3) and c.json;"
    )


def test_a_capture_in_the_wrong_shard_is_refused(suite: Path, capsys) -> None:
    name = shard_report(suite, "s1.json", Shard(1, 3), records(30))
    data = json.loads(Path(name).read_text())
    data["shard"]["index"] = 2  # as if another version had assigned files differently
    Path("s2.json").write_text(json.dumps(data))
    message = refused(capsys, "s2.json", "--report", "m.json")
    assert message.startswith("s2.json holds f")
    assert message.endswith(
        "which the shard hash puts in another shard than 2/3: not a shard report of this version"
    )


def test_a_report_without_run_and_a_merged_report_are_refused(suite: Path, capsys) -> None:
    shards = three(suite, records(30))
    data = json.loads(Path(shards[0]).read_text())
    del data["run"]
    Path("old.json").write_text(json.dumps(data))
    assert refused(capsys, "old.json", "--report", "m.json").startswith(
        "old.json: has no 'run' section (written by pytest-oscura before 0.2.0)"
    )
    assert main(["merge", *shards, "--report", "m.json"]) == 0
    assert refused(capsys, "m.json", "--report", "m2.json") == (
        "m.json: is a merged report; merge the shards' own reports"
    )
    assert refused(capsys, "missing.json", "--report", "m2.json").startswith(
        "missing.json: cannot read"
    )


def test_update_refuses_interrupted_and_crashed_shards(suite: Path, capsys) -> None:
    batch = records(30, scale=1.1)
    before = (suite / "oscura-baseline.json").read_bytes()
    ok = [shard_report(suite, f"s{k}.json", Shard(k, 3), batch) for k in (1, 2)]
    cut = shard_report(suite, "s3.json", Shard(3, 3), batch, interrupted=True)
    assert refused(capsys, *ok, cut, "--report", "m.json", "--update-baseline") == (
        "--update-baseline: s3.json (shard 3/3) was interrupted, its results are incomplete; "
        "the baseline is unchanged"
    )
    crashed = shard_report(suite, "s3.json", Shard(3, 3), batch, crashed=("gw1",))
    assert refused(capsys, *ok, crashed, "--report", "m.json", "--update-baseline") == (
        "--update-baseline: s3.json (shard 3/3) lost xdist worker(s) gw1, its results are "
        "incomplete; the baseline is unchanged"
    )
    assert (suite / "oscura-baseline.json").read_bytes() == before
    # Without --update-baseline, the merge goes ahead and says what is missing.
    assert main(["merge", *ok, crashed, "--report", "m.json", "--gate", "none"]) == 0
    notes = json.loads(Path("m.json").read_text())["summary"]["notes"]
    assert notes == [
        "xdist worker gw1 of s3.json (shard 3/3) crashed; its unfinished captures are missing"
    ]


def test_update_writes_what_the_controller_writes(suite: Path, capsys) -> None:
    batch = [
        *records(30, scale=1.1)[:-1],
        replace(records(30)[-1], error="broken", measurements={}, outcome="error"),
    ]
    shards = three(suite, batch)
    old = CaptureRoot.open(suite, "caps", None).baseline()
    expected = update_baseline_entries(old, batch, [], whole_suite=True)
    assert main(["merge", *shards, "--report", "m.json", "--update-baseline"]) == 0
    out = capsys.readouterr().out
    assert "baseline caps/oscura-baseline.json written: 0 added, 29 changed, 0 removed" in out
    assert "1 capture(s) failed to load" in out
    again = CaptureRoot.open(suite, "caps", None).baseline()
    assert again is not None
    assert old is not None
    assert dict(again.captures) == expected.entries
    assert again.captures["f029.npy::CH1"] == old.captures["f029.npy::CH1"]  # kept


def test_baseline_path_checks(suite: Path, capsys) -> None:
    shards = three(suite, records(30))
    (suite / "oscura-baseline.json").rename(suite / "moved.json")
    assert refused(capsys, *shards, "--report", "m.json") == (
        "caps/oscura-baseline.json: no such file, but the shards were checked against one; run "
        "merge where the shards ran pytest or name the file with --baseline"
    )
    args = [*shards, "--report", "m.json", "--baseline", "caps/moved.json"]
    assert main(["merge", *args]) == 0


def test_html_without_the_renderer_is_a_one_line_refusal(suite, capsys, monkeypatch) -> None:
    shards = three(suite, records(30))
    monkeypatch.setattr(merge_module, "_html_renderer", lambda: None)
    assert refused(capsys, *shards, "--report", "m.json", "--html", "m.html") == (
        "--html: the HTML report is not available in this version"
    )
    assert not Path("m.json").exists()


def test_html_is_rendered_by_the_html_command_from_the_merged_json(suite, monkeypatch) -> None:
    shards = three(suite, records(30))
    calls = []

    def render(args) -> int:
        calls.append((args.report, args.output, Path(args.report).exists()))
        return 0

    class Renderer:  # the html command's module, as __main__ would declare it
        @staticmethod
        def add_parser(commands) -> None:
            html = commands.add_parser("html")
            html.add_argument("report")
            html.add_argument("-o", dest="output")
            html.set_defaults(run=render)

    monkeypatch.setattr(merge_module, "_html_renderer", lambda: Renderer)
    assert main(["merge", *shards, "--report", "m.json", "--html", "m.html"]) == 0
    assert calls == [("m.json", "m.html", True)]  # rendered from the merged JSON report
