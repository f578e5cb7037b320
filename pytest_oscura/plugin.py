"""pytest11 entry point of pytest-oscura: hook wiring only.

Importing this module must stay cheap (no numpy, no scipy): it is imported by every pytest run
of every project that has the plugin installed. A run that checks captures gets its hook
objects from :func:`pytest_oscura.hooks.start_run`; every other run only sees the options.
"""

from __future__ import annotations

import pytest

from pytest_oscura.options import Settings, add_options


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "oscura: a capture channel checked by pytest-oscura")
    settings = Settings.from_config(config)
    if not settings.captures:
        return
    settings.validate()
    from pytest_oscura.hooks import start_run

    start_run(config, settings)
