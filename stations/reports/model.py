"""What a problem report is, and the rules every report store applies the same way.

Reports are text from strangers, so every size is bounded (:class:`ReportLimits`): the note,
the station id, a budget per address (an IPv6 address counts by its /64), per network (/24,
/48) and for everyone, and the number of open reports.  Clients are counted by salted hashes
of their address and network; the address itself is never stored.  Both stores (SQLite for one
machine, PostGIS for many replicas) check these rules here and only count in their own SQL.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

from ..errors import ReportAlreadyResolved, ReportRateLimited, ReportRejected, ReportStoreFull
from ..model import TIMEZONE
from ..text import without_controls


@dataclass(frozen=True, slots=True)
class ReportKind:
    """One kind of problem a rider can report, with the labels the page and the CLI show."""

    code: str
    label_zh: str
    label_en: str


REPORT_KINDS: Final[tuple[ReportKind, ...]] = (
    ReportKind("closed_at_night", "夜间不开门", "Closed at night"),
    ReportKind("microwave_broken", "微波炉坏了", "Microwave broken"),
    ReportKind("charger_missing", "没有充电器", "Charger missing"),
    ReportKind("wrong_location", "位置不对", "Wrong location"),
    ReportKind("other", "其他问题", "Other problem"),
)
REPORT_KIND_CODES: Final[tuple[str, ...]] = tuple(kind.code for kind in REPORT_KINDS)

MAX_NOTE_CHARS: Final = 280
MAX_RESOLUTION_NOTE_CHARS: Final = 500
MAX_STATION_ID_CHARS: Final = 64
MAX_WHO_CHARS: Final = 200
DAY_S: Final = 86_400
HOUR_S: Final = 3_600
BUSY_RETRY_AFTER_S: Final = 5


class Outcome(StrEnum):
    """How an office closed a report: the problem was dealt with, or the report was wrong."""

    RESOLVED = "resolved"
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class Budget:
    """At most ``count`` open reports in any ``window_s`` seconds."""

    count: int
    window_s: float


@dataclass(frozen=True, slots=True)
class ReportLimits:
    """Every cap on what strangers can add; the API takes them from its settings."""

    per_address: Budget = Budget(5, 600)
    per_network: Budget = Budget(30, HOUR_S)
    everyone: Budget = Budget(600, HOUR_S)
    dedupe_window_s: float = DAY_S
    max_open: int = 100_000
    counted_days: float = 30.0
    busy_timeout_s: float = 2.0


DEFAULT_LIMITS: Final = ReportLimits()


@dataclass(frozen=True, slots=True)
class Report:
    """One stored report.  ``resolved_at`` is empty while the report is open; once closed,
    ``outcome`` says how, ``resolved_by`` who closed it and ``resolution_note`` why."""

    id: int
    station_id: str
    kind: str
    note: str
    created_at: str
    resolved_at: str = ""
    outcome: str = ""
    resolved_by: str = ""
    resolution_note: str = ""

    @property
    def is_open(self) -> bool:
        return not self.resolved_at

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "station_id": self.station_id, "kind": self.kind,
                "note": self.note, "created_at": self.created_at,
                "resolved_at": self.resolved_at or None, "open": self.is_open,
                "outcome": self.outcome or None, "resolved_by": self.resolved_by or None,
                "resolution_note": self.resolution_note}


class Added(NamedTuple):
    """What :meth:`ReportStore.add` did: ``new`` is False when an open report said it already."""

    report: Report
    new: bool


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A report with what only the store sees (its epoch and the salted client hashes), so
    that ``stations migrate`` moves reports with their budgets still counting."""

    report: Report
    created_epoch: float
    client_key: str
    network_key: str


@dataclass(frozen=True, slots=True)
class ReportDump:
    """Everything a report store holds: the salt of its client hashes and every report."""

    salt: str
    reports: list[StoredReport]


def clean_note(note: str, field: str = "note", limit: int = MAX_NOTE_CHARS) -> str:
    """Normalise a rider's or an office's note and check its length; control characters other
    than line breaks are dropped so that a note cannot rewrite a planner's terminal, while emoji
    joined with a zero-width joiner and emoji newer than Python's tables are kept."""
    text = unicodedata.normalize("NFC", note).replace("\r\n", "\n").replace("\r", "\n")
    text = without_controls(text.replace("\t", " "))
    text = text.strip()
    if len(text) > limit:
        raise ReportRejected(f"{field}: at most {limit} characters, got {len(text)}")
    return text


def check_kind(kind: str) -> str:
    if kind not in REPORT_KIND_CODES:
        raise ReportRejected(f"kind: {kind!r} is not one of {', '.join(REPORT_KIND_CODES)}")
    return kind


def checked_report(station_id: str, kind: str, note: str) -> tuple[str, str, str]:
    """A rider's station id, kind and note as stored; :class:`ReportRejected` names a bad one."""
    if not station_id or len(station_id) > MAX_STATION_ID_CHARS:
        raise ReportRejected(f"station_id: 1 to {MAX_STATION_ID_CHARS} characters")
    return station_id, check_kind(kind), clean_note(note)


def checked_resolution(who: str, note: str, outcome: str) -> tuple[str, str, Outcome]:
    """Who closes a report, their note and the outcome, checked like a rider's input."""
    who = clean_note(who, "who", MAX_WHO_CHARS).replace("\n", " ")
    if not who:
        raise ReportRejected("who: say who resolves the report")
    if outcome not in tuple(Outcome):
        raise ReportRejected(f"outcome: {outcome!r} is not one of "
                             f"{', '.join(o.value for o in Outcome)}")
    return who, clean_note(note, "note", MAX_RESOLUTION_NOTE_CHARS), Outcome(outcome)


def already_resolved(report: Report) -> ReportAlreadyResolved:
    """The refusal to close a report twice, naming who closed it first."""
    return ReportAlreadyResolved(
        f"report {report.id} was already {report.outcome or 'resolved'} by "
        f"{report.resolved_by or 'someone'} at {report.resolved_at} / 此反馈已处理",
        report.as_dict())


def client_groups(client: str) -> tuple[str, str]:
    """The address and the network a client is counted in.

    One IPv4 address is one rider; an IPv6 rider usually holds a whole /64, so that is the
    address.  Networks are /24 (IPv4) and /48 (IPv6).  Text that is no IP address (a test
    client's name) is its own address and network.
    """
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client, client
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.version == 4:
        return str(address), str(ipaddress.ip_network(f"{address}/24", strict=False))
    return (str(ipaddress.ip_network(f"{address}/64", strict=False)),
            str(ipaddress.ip_network(f"{address}/48", strict=False)))


def client_keys(salt: str, client: str) -> tuple[str, str]:
    """Salted hashes of a client's address and network: enough to count, useless to identify."""
    address, network = client_groups(client)
    return tuple(hashlib.sha256(f"{salt}:{group}".encode()).hexdigest()[:32]  # type: ignore[return-value]
                 for group in (address, network))


# Counts the open reports created after an epoch, optionally only those whose ``column``
# (client_key or network_key) equals ``key``; returns the count and the oldest one's epoch.
CountSince = Callable[[str, str, float], tuple[int, float | None]]


def admit(count_since: CountSince, limits: ReportLimits, salt: str, client: str, now: float
          ) -> tuple[str, str]:
    """The client's hashed address and network, once its report fits every budget and the
    store has room; call it inside the store's write transaction."""
    address_key, network_key = client_keys(salt, client)
    check_budgets(count_since, limits, address_key, network_key, now)
    check_room(count_since, limits, now)
    return address_key, network_key


def check_budgets(count_since: CountSince, limits: ReportLimits, address_key: str,
                  network_key: str, now: float) -> None:
    """Refuse when the address, its network or everyone together sent enough lately; resolved
    reports do not count."""
    for who, column, key, budget in (
        ("this address 此地址", "client_key", address_key, limits.per_address),
        ("this network 此网络", "network_key", network_key, limits.per_network),
        ("everyone 所有人", "", "", limits.everyone),
    ):
        count, oldest = count_since(column, key, now - budget.window_s)
        if count >= budget.count:
            retry_after = max(1, math.ceil((oldest or now) + budget.window_s - now))
            raise ReportRateLimited(
                f"报告太多 too many reports from {who}: at most {budget.count} every "
                f"{_duration(budget.window_s)}; try again in {retry_after} s", retry_after)


def check_room(count_since: CountSince, limits: ReportLimits, now: float) -> None:
    """Refuse when too many recent reports are open; resolved and old ones do not count."""
    open_recent, _ = count_since("", "", now - limits.counted_days * DAY_S)
    if open_recent >= limits.max_open:
        raise ReportStoreFull(
            f"报告库已满 the report store is full ({open_recent} open reports from the last "
            f"{limits.counted_days:g} days); planners resolve or purge some")


def purge_cutoff(now: float, older_than_days: float) -> float:
    """The epoch before which reports are purged; a bad number of days is refused."""
    if not older_than_days >= 0:
        raise ReportRejected(f"older than: a number of days >= 0, not {older_than_days}")
    return now - older_than_days * DAY_S


def local_iso(moment: float | datetime) -> str:
    """An epoch or an aware moment as Asia/Shanghai ISO 8601 to the second, as reports show."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds")


def _duration(seconds: float) -> str:
    if seconds % HOUR_S == 0:
        hours = int(seconds // HOUR_S)
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} minutes"
    return f"{seconds:g} s"
