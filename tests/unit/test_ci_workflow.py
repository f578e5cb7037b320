"""The GitHub Actions example in docs/ci/: it parses, its matrix covers every shard, and its
commands are the ones the README documents (and that the plugin and merge accept)."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import yaml

from pytest_oscura.report import merge
from pytest_oscura.shards import parse_shard

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "docs" / "ci" / "github-actions.yml"


def _workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _commands() -> list[str]:
    return [
        step["run"]
        for job in _workflow()["jobs"].values()
        for step in job["steps"]
        if "run" in step
    ]


def _readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Past one machine")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_workflow_parses_into_a_shard_matrix_and_a_merge_job() -> None:
    workflow = _workflow()
    jobs = workflow["jobs"]
    assert set(jobs) == {"shard", "merge"}
    matrix = jobs["shard"]["strategy"]["matrix"]["shard"]
    assert matrix == [1, 2, 3, 4]
    assert jobs["shard"]["strategy"]["fail-fast"] is False
    assert jobs["merge"]["needs"] == "shard"
    assert jobs["merge"]["if"] == "${{ !cancelled() }}"  # merge after failing shards too
    uploads = [s for s in jobs["merge"]["steps"] if s.get("uses", "").startswith("actions/upload")]
    (upload,) = uploads
    assert upload["with"]["path"].split() == ["reports/merged.json", "reports/merged.html"]


def test_the_workflow_commands_are_the_readme_commands() -> None:
    section = _readme_section()
    oscura = [c for c in _commands() if c.startswith(("pytest ", "python -m pytest_oscura "))]
    assert len(oscura) == 2
    for command in oscura:
        assert command in section, command


def test_the_shard_command_names_every_shard_and_only_real_options() -> None:
    (command,) = [c for c in _commands() if c.startswith("pytest ")]
    options = (REPO / "pytest_oscura" / "options.py").read_text(encoding="utf-8")
    for flag in re.findall(r"--oscura-[a-z-]+", command):
        assert f'"{flag}"' in options, flag
    shards = []
    for k in (1, 2, 3, 4):
        words = shlex.split(command.replace("${{ matrix.shard }}", str(k)))
        shards.append(parse_shard(words[words.index("--oscura-shard") + 1]))
        assert words[words.index("--oscura-report") + 1] == f"reports/shard-{k}.json"
    assert {(s.index, s.count) for s in shards} == {(1, 4), (2, 4), (3, 4), (4, 4)}


def test_the_merge_command_is_accepted_by_merge() -> None:
    (command,) = [c for c in _commands() if "pytest_oscura merge" in c]
    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "pytest_oscura", "merge"]
    parser = argparse.ArgumentParser()
    merge.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(words[3:])
    assert args.reports == ["reports/shard-*.json"]  # the shell expands it
    assert args.report == "reports/merged.json"
    assert args.gate == "drift"
