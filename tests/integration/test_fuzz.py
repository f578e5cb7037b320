"""Fuzz the plugin with mutated captures of every format (issue 12, point 10).

The corpus (:mod:`tests.integration.fuzz_corpus`) holds a valid seed of each format and a few
hundred deterministic mutants: truncations, byte flips, absurd declared sizes, zip bombs,
NaN/Inf samples, wrong suffixes. They run through the plugin in one pytest subprocess per
:data:`BATCH` files, as an update run with a JSON report, under an address-space limit. Each
mutant must end as a normal item or as an item error with a one-line reason naming the file:
no collection error, no traceback, within :data:`FILE_SECONDS` and :data:`FILE_MEMORY`. Valid
seeds must pass. One test per mutation class, so a class that fails lists its mutants.

``OSCURA_FUZZ_LONG=1`` runs five times the mutants per class and 1.5 GiB zip bombs.

The corpus runs once per test session: under xdist the first worker to need it runs it and
the others read its results (a lock and a results file in the session's shared temp folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from pytest_oscura._files import locked
from pytest_oscura.errors import OscuraError
from tests.integration.fuzz_corpus import MUTATION_CLASSES, mutants

LONG = bool(os.environ.get("OSCURA_FUZZ_LONG"))
SCALE = 5 if LONG else 1
BOMB_BYTES = (1536 << 20) if LONG else (64 << 20)
BATCH = 450  # files per pytest subprocess
FILE_SECONDS = 10.0  # also the --oscura-timeout of the runs
FILE_MEMORY = 512 << 20  # peak-RSS growth one file may cause
ADDRESS_SPACE = 6 << 30  # RLIMIT_AS of a run: a runaway allocation fails instead of swapping

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")

RECORDER = '''
"""Records every collection and test report of the fuzz run, with the peak RSS after it."""
import json, os, resource
from pathlib import Path

_OUT = []


def pytest_configure(config):
    limit = int(os.environ["OSCURA_FUZZ_AS"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _OUT.append(open(Path(__file__).with_name("events.jsonl"), "w"))


def _write(**event):
    event["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    _OUT[0].write(json.dumps(event) + "\\n")
    _OUT[0].flush()


def pytest_collectreport(report):
    if report.failed:
        _write(kind="collect", nodeid=report.nodeid, text=report.longreprtext[-3000:])


def pytest_runtest_logreport(report):
    text = report.longreprtext[-3000:] if report.failed else ""
    _write(kind="item", nodeid=report.nodeid, when=report.when, outcome=report.outcome,
           text=text, duration=report.duration)
'''


def _run_batch(folder: Path, files: list[tuple[str, str, bytes]]) -> dict[str, Any]:
    """Write ``files`` (mutation, name, bytes) below ``folder/caps`` and run the plugin on them."""
    caps = folder / "caps"
    for mutation, name, data in files:
        (caps / mutation).mkdir(parents=True, exist_ok=True)
        (caps / mutation / name).write_bytes(data)
    (caps / "oscura.toml").write_text("[defaults]\nsample_rate_hz = 1e5\n")
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "conftest.py").write_text(RECORDER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(OSCURA_FUZZ_AS=str(ADDRESS_SPACE), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:xdist",
        "-p",
        "no:cacheprovider",
        "-q",
        "--oscura-captures",
        "caps",
        "--oscura-update-baseline",
        "--oscura-report",
        "report.json",
        "--oscura-strategy",
        "serial",
        "--oscura-timeout",
        str(FILE_SECONDS),
        "--oscura-progress",
        "off",
    ]
    start = time.monotonic()
    done = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=60 + 30 * len(files)
    )
    events_path = folder / "events.jsonl"
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    return {
        "returncode": done.returncode,
        "seconds": time.monotonic() - start,
        "output": done.stdout[-6000:] + done.stderr[-3000:],
        "events": events,
        "files": [[mutation, name] for mutation, name, _ in files],
        "folder": str(folder),
    }


def _run_corpus(folder: Path) -> list[dict[str, Any]]:
    corpus = [(m.mutation, m.name, m.data) for m in mutants(SCALE, BOMB_BYTES)]
    batches = [corpus[i : i + BATCH] for i in range(0, len(corpus), BATCH)]
    return [_run_batch(folder / f"batch{n}", batch) for n, batch in enumerate(batches)]


@pytest.fixture(scope="session")
def fuzz_runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The corpus's runs, once per test session (shared by xdist workers through a file)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    results = shared / "oscura-fuzz.json"
    with locked(shared / "oscura-fuzz.lock", 1800, OscuraError):
        if not results.exists():
            results.write_text(json.dumps(_run_corpus(shared / "oscura-fuzz")))
    runs: list[dict[str, Any]] = json.loads(results.read_text())
    return runs


def _first_error_line(text: str) -> str:
    """The exception line of a traceback text (``E   ...``), else its last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors[0] if errors else lines[-1] if lines else "")[:200]


def findings(runs: list[dict[str, Any]], mutation: str) -> list[str]:
    """Every problem of the mutants of one class, one line each (empty: the class is clean)."""
    problems: list[str] = []
    for run in runs:
        by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
        previous_rss = 0
        for event in run["events"]:
            file_part = event["nodeid"].split("::")[0]
            event["growth"] = event["maxrss"] - previous_rss if previous_rss else 0
            previous_rss = event["maxrss"]
            by_file[file_part].append(event)
        for kind, name in run["files"]:
            if kind != mutation:
                continue
            path = f"caps/{kind}/{name}"
            events = by_file.get(path, [])
            problems.extend(_file_problems(Path(run["folder"]), path, events, kind))
    return problems


def _file_problems(
    folder: Path, path: str, events: list[dict[str, Any]], mutation: str
) -> list[str]:
    """The problems of one file of a run, from its collection and test reports."""
    from pytest_oscura.captures import format_for

    name = path.rsplit("/", 1)[-1]
    problems = []
    if not events:
        if format_for(folder / path) is not None:  # a capture that nobody reported on
            problems.append(f"{path}: never reported")
        return problems
    seconds = sum(e.get("duration", 0.0) for e in events)
    growth = max(e["growth"] for e in events)
    for event in events:
        text = event["text"]
        if event["kind"] == "collect":
            problems.append(f"{path}: collection error: {_first_error_line(text)}")
        elif event["outcome"] == "failed":
            if mutation == "valid":
                problems.append(f"{path}: valid seed failed: {_first_error_line(text)}")
            if "\n" in text.strip() or "Traceback" in text:
                problems.append(f"{path}: traceback: {_first_error_line(text)}")
            elif len(text) > 500:
                problems.append(f"{path}: error message of {len(text)} characters: {text[:80]}")
            elif name not in text:
                problems.append(f"{path}: error does not name the file: {text[:200]}")
            if "Unable to allocate" in text or "MemoryError" in text:
                problems.append(f"{path}: hit the {ADDRESS_SPACE >> 30} GiB memory limit")
            if "timed out after" in text:
                problems.append(f"{path}: timed out after {FILE_SECONDS:g} s")
        elif mutation == "valid" and event["outcome"] != "passed":
            problems.append(f"{path}: valid seed {event['outcome']}")
    if mutation == "valid" and not any(e["kind"] == "item" and e["when"] == "call" for e in events):
        problems.append(f"{path}: valid seed did not run")
    if seconds > FILE_SECONDS:
        problems.append(f"{path}: took {seconds:.1f} s")
    if growth > FILE_MEMORY:
        problems.append(f"{path}: peak RSS grew by {growth >> 20} MiB")
    return sorted(set(problems))


def _refuse_constant(name: str) -> None:
    pytest.fail(f"a JSON output holds {name}, which strict JSON readers refuse")


def test_the_runs_end_normally(fuzz_runs: list[dict[str, Any]]) -> None:
    """Every run ends as pytest does after failures (exit 1 at most), with strict JSON outputs."""
    for run in fuzz_runs:
        assert run["returncode"] in (0, 1), run["output"]
        assert "INTERNALERROR" not in run["output"], run["output"]
        folder = Path(run["folder"])
        for output in (folder / "report.json", folder / "caps" / "oscura-baseline.json"):
            json.loads(output.read_text(), parse_constant=_refuse_constant)


@pytest.mark.parametrize("mutation", ["valid", *MUTATION_CLASSES])
def test_every_mutant_is_a_normal_item_or_a_clean_item_error(
    fuzz_runs: list[dict[str, Any]], mutation: str
) -> None:
    problems = findings(fuzz_runs, mutation)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
