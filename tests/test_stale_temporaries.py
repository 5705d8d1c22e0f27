"""A build killed with kill -9 leaves its temporary GeoPackage and journal behind; the next
write of the same GeoPackage removes them, and never a temporary that a live build is writing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_sample_frame

from stations.geodata import read_stations, remove_stale_temporaries, write_stations

# Writes a GeoPackage large enough to be killed in the middle of its station layer.
BIG_WRITE = """
import sys
import numpy as np
from stations.geodata import station_frame, write_stations
n = 60_000
frame = station_frame({"id": [f"S{i:07d}" for i in range(n)], "name": "驿站" * 20,
                       "address": "某路" * 40}, np.linspace(100, 120, n), np.linspace(20, 40, n))
print("writing", flush=True)
write_stations(frame, sys.argv[1])
print("finished", flush=True)
"""

pytestmark = pytest.mark.skipif(os.name == "nt", reason="kill -9 is a POSIX signal")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.slow
def test_a_build_killed_mid_write_is_cleaned_up_by_the_next(tmp_path: Path) -> None:
    target = tmp_path / "stations.gpkg"
    write_stations(make_sample_frame(), target)
    writer = subprocess.Popen([sys.executable, "-c", BIG_WRITE, str(target)],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    temporary = tmp_path / f".stations.{writer.pid}.tmp.gpkg"
    deadline = time.monotonic() + 120
    while not (temporary.exists() and temporary.stat().st_size > 100_000):
        assert writer.poll() is None and time.monotonic() < deadline, "the write ended early"
        time.sleep(0.01)
    writer.send_signal(signal.SIGKILL)
    writer.wait()  # reaped: its process id is gone
    left = leftovers(tmp_path)
    assert temporary.name in left  # and, killed inside a transaction, its -journal
    assert read_stations(target)["id"].tolist()[:1] == ["NN-001"]  # the old file is whole

    write_stations(make_sample_frame(), target)
    assert leftovers(tmp_path) == []
    assert len(read_stations(target)) == 6


def test_leftovers_of_a_dead_process_are_removed_journals_included(tmp_path: Path) -> None:
    target = tmp_path / "stations.gpkg"
    pid = dead_pid()
    names = [f".stations.{pid}.tmp.gpkg{end}" for end in ("", "-journal", "-wal", "-shm")]
    for name in names:
        (tmp_path / name).write_bytes(b"SQLite format 3\x00")
    unrelated = [".stations.gpkg.tmp", ".other.123.tmp.gpkg", "stations.123.tmp.gpkg",
                 f".stations.{pid}.tmp.gpkg-journal.bak"]
    for name in unrelated:
        (tmp_path / name).write_bytes(b"keep")
    removed = remove_stale_temporaries(target, now=1_000.0)
    assert sorted(p.name for p in removed) == sorted(names)
    assert leftovers(tmp_path) == sorted(unrelated)


def test_a_live_writer_is_left_alone_until_its_file_is_old(tmp_path: Path) -> None:
    target = tmp_path / "stations.gpkg"
    live = tmp_path / f".stations.{os.getppid()}.tmp.gpkg"  # a process that is running
    live.write_bytes(b"SQLite format 3\x00")
    os.utime(live, (1_000_000.0, 1_000_000.0))
    assert remove_stale_temporaries(target, now=1_000_000.0 + 60) == []
    assert remove_stale_temporaries(target, now=1_000_000.0 + 3_599) == []
    assert remove_stale_temporaries(target, now=1_000_000.0 + 3_601) == [live]
    assert not live.exists()
    assert remove_stale_temporaries(tmp_path / "missing" / "stations.gpkg") == []
