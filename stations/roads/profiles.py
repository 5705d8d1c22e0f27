"""Who may use which road, in which direction, and how fast: the e-bike and walking profiles.

The rules follow OpenStreetMap tagging as it is used in China (documented in docs/roads.md):

E-bike (电动自行车, a non-motor vehicle under Chinese traffic law)
    * rides ``primary`` down to ``residential``, ``living_street``, ``service``, ``track``,
      ``road``, ``cycleway`` and the ``_link`` roads;
    * ``trunk`` (often an urban arterial with a non-motor lane in China) unless ``bicycle=no``
      or ``motorroad=yes``; ``motorway`` only with an explicit ``bicycle=yes``;
    * ``footway``, ``path``, ``pedestrian``, ``bridleway`` and ``corridor`` only with
      ``bicycle=yes|designated|permissive``; never ``steps``;
    * never where ``bicycle`` is ``no``, ``dismount`` or ``use_sidepath``, nor where
      ``access``/``vehicle`` is ``no``/``private`` without a bicycle permission;
    * keeps to ``oneway`` (and roundabouts) unless ``oneway:bicycle=no`` or an ``opposite``
      cycleway lets bicycles ride against it.
Walking
    * every road and path except ``motorway`` (without ``foot=yes``) and where ``foot=no`` or
      ``access=no|private`` without a foot permission; in both directions.
Both
    * never ``construction``, ``proposed``, ``platform``, ``raceway`` ..., nor ``area=yes``
      (a square drawn as a polygon: its outline is not a route).

Speeds are those the straight-line estimates already use (service.py): e-bike 15 km/h, about
250 m a minute; walking 4.5 km/h, 75 m a minute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ..service import EBIKE_KMH, WALK_KMH

ALLOWED = frozenset({"yes", "designated", "permissive", "official"})
REFUSED = frozenset({"no", "private"})
NEVER = frozenset({"construction", "proposed", "planned", "abandoned", "disused", "platform",
                   "raceway", "bus_guideway", "escape", "elevator", "busway", "emergency_bay",
                   "rest_area", "services"})
EBIKE_ROADS = frozenset({
    "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
    "unclassified", "residential", "living_street", "service", "track", "road", "cycleway",
    "trunk", "trunk_link"})
EBIKE_BANNED = frozenset({"no", "dismount", "use_sidepath"})
WALK_IF_ALLOWED = frozenset({"motorway", "motorway_link"})
ONEWAY_BY_DEFAULT = frozenset({"motorway", "motorway_link"})


class ProfileName(StrEnum):
    """The travel profiles a query can ask for (``profile=ebike|walk``)."""

    EBIKE = "ebike"
    WALK = "walk"


@dataclass(frozen=True, slots=True)
class Profile:
    """One way of travelling: which ways it uses, in which direction, at what speed."""

    name: ProfileName
    kmh: float

    @property
    def metres_per_minute(self) -> float:
        return self.kmh * 1000 / 60

    def directions(self, tags: Mapping[str, str]) -> tuple[bool, bool]:
        """(forward, backward) along the way's drawing direction; (False, False) if unusable."""
        if tags.get("area") == "yes" or tags.get("highway", "") in NEVER:
            return False, False
        if self.name is ProfileName.WALK:
            return (True, True) if _walkable(tags) else (False, False)
        if not _rideable(tags):
            return False, False
        return _ebike_directions(tags)


def _walkable(tags: Mapping[str, str]) -> bool:
    foot = tags.get("foot", "")
    if foot == "no":
        return False
    if tags.get("highway") in WALK_IF_ALLOWED:
        return foot in ALLOWED
    return foot in ALLOWED or tags.get("access", "") not in REFUSED


def _rideable(tags: Mapping[str, str]) -> bool:
    highway = tags.get("highway", "")
    bicycle = tags.get("bicycle", "")
    if bicycle in EBIKE_BANNED:
        return False
    if bicycle in ALLOWED:
        return highway != "steps"
    if highway not in EBIKE_ROADS or tags.get("motorroad") == "yes":
        return False
    return not (tags.get("access", "") in REFUSED or tags.get("vehicle", "") in REFUSED)


def _ebike_directions(tags: Mapping[str, str]) -> tuple[bool, bool]:
    if tags.get("oneway:bicycle") == "no" or tags.get("cycleway", "").startswith("opposite"):
        return True, True
    oneway = tags.get("oneway", "")
    if oneway in ("-1", "reverse"):
        return False, True
    if oneway in ("yes", "true", "1") or (oneway != "no" and (
            tags.get("junction") in ("roundabout", "circular")
            or tags.get("highway") in ONEWAY_BY_DEFAULT)):
        return True, False
    return True, True


EBIKE = Profile(ProfileName.EBIKE, EBIKE_KMH)
WALK = Profile(ProfileName.WALK, WALK_KMH)
PROFILES = {profile.name: profile for profile in (EBIKE, WALK)}
