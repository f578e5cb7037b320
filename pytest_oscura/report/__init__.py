"""Reports of a run: the JSON report and the tools that read it back. Pure: no pytest import.

* :mod:`~pytest_oscura.report.json_report`: the JSON report, written once by the controller
  and read back by the command-line tools; the unit of exchange between runs.
* :mod:`~pytest_oscura.report.compare`: ``python -m pytest_oscura compare OLD.json NEW.json``.
"""
