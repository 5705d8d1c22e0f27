"""A short soak of a real `stations serve` process: load, rebuild, broken file, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


@pytest.mark.slow
def test_short_soak_with_rebuild_and_broken_file() -> None:
    result = subprocess.run(
        [sys.executable, str(SOAK), "--duration", "4", "--rate", "150", "--stations", "200",
         "--wrk-seconds", "0", "--max-growth-mib", "48", "--swaps", "2", "--swap-every", "1",
         "--max-swap-lag", "5", "--json"],
        capture_output=True, text=True, timeout=240)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    print(f"\nsoak: {report['sent']} requests sent, {report['failed']} failed, p99 "
          f"{report['p99_ms']} ms, RSS {report['rss_start_kib']} -> {report['rss_end_kib']} kB")
    assert report["problems"] == [], report
    assert result.returncode == 0
    assert report["sent"] >= 600 and report["failed"] == 0
    assert report["new_version"] != report["old_version"]
    assert report["answers_after_swap"] > 0 and report["stale_after_swap"] == 0
    assert report["broken_file_refused"] and "refused" in report["refusal_log"]
    assert report["served_after_refusal"] > 0
    assert 0 < report["rss_start_kib"] <= report["rss_peak_kib"]
    assert len(report["swap_lags_s"]) == 2 and report["saturated_rate"] > 0
    assert len(report["swap_loads"]) == 2  # the server logs how long each load took
