"""Riding and walking distance on an OpenStreetMap road network (see docs/roads.md)."""

from .network import RoadNetwork, StationRoads
from .profiles import PROFILES, ProfileName

__all__ = ["PROFILES", "ProfileName", "RoadNetwork", "StationRoads"]
