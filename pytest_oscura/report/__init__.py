"""Reports of a run: the JSON report and the tools that read it back. Pure: no pytest import.

* :mod:`~pytest_oscura.report.json_report`: the JSON report, written once by the controller
  and read back by the command-line tools; the unit of exchange between runs.
* :mod:`~pytest_oscura.report.compare`: ``python -m pytest_oscura compare OLD.json NEW.json``.
* :mod:`~pytest_oscura.report.merge`: ``python -m pytest_oscura merge REPORT... --report OUT``,
  the reports of CI shards (``--oscura-shard K/N``) into one run's.
"""
