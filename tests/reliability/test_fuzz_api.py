"""Schemathesis fuzzes every operation of the app's own OpenAPI document.

Any 5xx, any response that does not match the documented schema, content type or headers, and
any status code the document does not list fails the test.  Cases come from schemathesis'
strategies, driven by hypothesis directly (its pytest plugin does not run under pytest 9).
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from stations.api.app import create_app
from stations.api.settings import ApiSettings

EXAMPLES_PER_OPERATION = 60
# Rules JSON Schema cannot state (a bbox's south edge not above its north edge) make some
# schema-valid requests a documented 400 here, so "valid data is accepted" is not checked.
CROSS_FIELD_RULES = {"/collections/stations/items"}


def fuzz_operation(operation: schemathesis.APIOperation, examples: int) -> int:
    """Run ``examples`` generated cases against one operation; returns how many ran."""
    ran = 0

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case: schemathesis.Case) -> None:
        nonlocal ran
        ran += 1
        excluded = [positive_data_acceptance] if operation.path in CROSS_FIELD_RULES else []
        case.call_and_validate(excluded_checks=excluded)

    check()
    return ran


def test_every_operation_conforms_to_the_openapi_document(tmp_path: Path,
                                                          sample_gpkg: Path) -> None:
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
