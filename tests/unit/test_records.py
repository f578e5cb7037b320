"""Records travel as plain JSON: every field, round trip."""

from __future__ import annotations

import dataclasses
import json

from pytest_oscura.records import CaptureRecord, Failure


def test_to_dict_has_every_field_and_round_trips() -> None:
    record = CaptureRecord(
        key="psu/rail.npy::CH1",
        root="caps",
        group="psu",
        channel="CH1",
        units="V",
        measurements={"mean": 3.3, "thd": None},
        not_applicable={"thd": "no tone"},
        failures=(Failure("mean", 3.3, 3.2, "tolerance", "±0.01 V", "V"),),
        error=None,
        nodeid="caps/psu/rail.npy::CH1",
        outcome="failed",
        warnings=("header declares a 900-byte file, the file has 800 bytes",),
        companions=("rail.txt",),
    )
    data = record.to_dict()
    assert set(data) == {field.name for field in dataclasses.fields(CaptureRecord)}
    assert CaptureRecord.from_dict(json.loads(json.dumps(data))) == record
