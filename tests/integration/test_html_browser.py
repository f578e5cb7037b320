"""A real browser renders the HTML report: headless Chromium takes a screenshot of it.

Debian's ``chromium`` package (``.ci/run`` installs it when missing); without it the test skips
and says why.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests._png import read_png
from tests.html_suite import break_captures, night, write_suite

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1280, 2000


def screenshot(page: Path, shot: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    """Chromium's screenshot of ``page`` (its own profile folder, so that runs never share one)."""
    assert BROWSER is not None
    return subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            f"--window-size={WIDTH},{HEIGHT}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def _near(rgb: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    distance = np.abs(rgb.astype(np.int32) - np.asarray(colour)).sum(axis=2)
    return int(np.count_nonzero(distance < tolerance))


@pytest.mark.skipif(
    BROWSER is None,
    reason="headless Chromium not found: install the Debian package 'chromium' "
    "(.ci/run does when it is missing)",
)
def test_chromium_renders_the_report_and_it_is_not_blank(tmp_path: Path) -> None:
    root = tmp_path / "caps"
    paths = write_suite(root, 12)
    night(root, update=True, baseline_waveforms=True)
    break_captures(paths, 3, drift_rails=True)
    night(root, html=tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    done = screenshot(tmp_path / "report.html", shot, tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.is_file(), done.stderr[-2000:]
    image = read_png(shot)
    assert image.shape[:2] == (HEIGHT, WIDTH)
    rgb = image[..., :3]
    ink = float(np.mean(np.any(rgb < 235, axis=2)))
    colours = len(np.unique(rgb.reshape(-1, 3), axis=0))
    assert ink > 0.05, f"only {ink:.1%} of the page is not white"
    assert colours > 100, f"only {colours} distinct colours"
    assert _near(rgb, (207, 34, 46)) > 500  # the red verdict, badges and failing levels
    assert _near(rgb, (9, 105, 218)) > 500  # the waveforms (blue), drawn from the inline SVG
