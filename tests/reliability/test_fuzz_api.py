"""Schemathesis fuzzes every operation of the app's own OpenAPI document.

Any 5xx, any response that does not match the documented schema, content type or headers, any
status code the document does not list, a schema-valid request refused, or a numeric warning
while answering fails the test.  Cases come from schemathesis'
strategies, driven by hypothesis directly (its pytest plugin does not run under pytest 9).

The cases are derandomised, so every run of the suite sends the same ones and a red run can be
repeated; set ``STATIONS_FUZZ_RANDOM=1`` to draw new cases when hunting for bugs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.generation import GenerationMode

from stations.api.app import create_app
from stations.api.settings import ApiSettings

EXAMPLES_PER_OPERATION = 250
# Rules JSON Schema cannot state (a bbox's south edge not above its north edge) make some
# schema-valid requests a documented 400 here, so "valid data is accepted" is not checked.
CROSS_FIELD_RULES = {"/collections/stations/items"}
# Riders' apps get some leeway on purpose (crs=GCJ-02 or amap, amenity=微波炉, an empty `at`),
# so a request outside the schema may be answered; it must still never be a 5xx or undocumented.
ALWAYS_EXCLUDED = [negative_data_rejection]


def fuzz_operation(operation: schemathesis.APIOperation, examples: int) -> int:
    """Run ``examples`` cases against one operation, valid ones and ones that break the schema;
    returns how many ran."""
    ran = 0

    @settings(max_examples=examples, deadline=None, database=None,
              derandomize=os.environ.get("STATIONS_FUZZ_RANDOM") != "1",
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(GenerationMode.POSITIVE)
           | operation.as_strategy(GenerationMode.NEGATIVE))
    def check(case: schemathesis.Case) -> None:
        nonlocal ran
        ran += 1
        excluded = ALWAYS_EXCLUDED + (
            [positive_data_acceptance] if operation.path in CROSS_FIELD_RULES else [])
        case.call_and_validate(excluded_checks=excluded)

    check()
    return ran


@pytest.mark.slow
@pytest.mark.filterwarnings("error::RuntimeWarning")  # overflow or NaN while answering
def test_every_operation_conforms_to_the_openapi_document(sample_gpkg: Path) -> None:
    app = create_app(ApiSettings(data=sample_gpkg, reload_interval_s=0))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, "the OpenAPI document lists too few operations"
    counts = {f"{op.method.upper()} {op.path}": fuzz_operation(op, EXAMPLES_PER_OPERATION)
              for op in operations}
    print(f"\nschemathesis: {sum(counts.values())} cases over {len(counts)} operations")
    for label, count in counts.items():
        print(f"  {count:5d}  {label}")
    assert all(count > 0 for count in counts.values())
