"""The two graph searches scipy's csgraph does not offer, compiled with numba.

* :func:`k_nearest_labels`: one search from every station at once that gives each node its
  ``K`` nearest stations (a "k-best" multi-source Dijkstra: a node may be settled once per
  station, at most ``K`` times).  Run once when the network is prepared.
* :func:`search_from`: an ordinary Dijkstra from a rider's position that stops as soon as
  ``k`` wanted stations are settled, optionally keeping predecessors for the route.

Both treat a station as a point on a segment: it is reached from a node with an extra length
(the rest of the segment plus the straight walk from road to door), listed per node in CSR
"attachments".  The priority queue is a binary heap over plain arrays (a key and two integer
payloads), several times faster in numba than :mod:`heapq` over tuples.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _grow(array):
    bigger = np.empty(array.size * 2, dtype=array.dtype)
    bigger[:array.size] = array
    return bigger


@njit(cache=True, inline="always")
def _push(keys, first, second, size, key, one, two):
    """Add an entry at position ``size`` (there is room) and restore the heap order."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i], first[i], second[i] = keys[parent], first[parent], second[parent]
        i = parent
    keys[i], first[i], second[i] = key, one, two


@njit(cache=True, inline="always")
def _add(keys, first, second, size, key, one, two):
    """:func:`_push`, doubling the arrays first when full; returns them and the new size."""
    if size == keys.size:
        keys, first, second = _grow(keys), _grow(first), _grow(second)
    _push(keys, first, second, size, key, one, two)
    return keys, first, second, size + 1


@njit(cache=True, inline="always")
def _pop(keys, first, second, size):
    """Remove the smallest entry (returned) from a heap of ``size`` entries."""
    key, one, two = keys[0], first[0], second[0]
    size -= 1
    last_key, last_one, last_two = keys[size], first[size], second[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= last_key:
            break
        keys[i], first[i], second[i] = keys[child], first[child], second[child]
        i = child
    keys[i], first[i], second[i] = last_key, last_one, last_two
    return key, one, two


@njit(cache=True, nogil=True)
def k_nearest_labels(indptr, indices, weights, n, k, src_node, src_station, src_dist):
    """Each node's ``k`` nearest stations over the edges given (use edges *into* nodes).

    Returns ``(station, metres)``, two ``(n, k)`` arrays nearest first, -1 / inf when fewer
    stations can be reached.
    """
    station = np.full((n, k), -1, dtype=np.int32)
    metres = np.full((n, k), np.inf)
    count = np.zeros(n, dtype=np.int32)
    capacity = max(1024, 2 * src_node.size)
    keys = np.empty(capacity)
    nodes = np.empty(capacity, dtype=np.int64)
    owners = np.empty(capacity, dtype=np.int64)
    size = 0
    for i in range(src_node.size):
        _push(keys, nodes, owners, size, src_dist[i], src_node[i], src_station[i])
        size += 1
    while size:
        d, node, s = _pop(keys, nodes, owners, size)
        size -= 1
        filled = count[node]
        if filled == k or _has(station, node, filled, s):
            continue
        station[node, filled] = s
        metres[node, filled] = d
        count[node] = filled + 1
        for e in range(indptr[node], indptr[node + 1]):
            other = indices[e]
            if count[other] < k and not _has(station, other, count[other], s):
                keys, nodes, owners, size = _add(keys, nodes, owners, size, d + weights[e],
                                                 other, s)
    return station, metres


@njit(cache=True, inline="always")
def _has(station, node, filled, s):
    for j in range(filled):  # noqa: SIM110 (numba compiles no generator expressions here)
        if station[node, j] == s:
            return True
    return False


@njit(cache=True, nogil=True)
def search_from(indptr, indices, weights, start_node, start_dist, att_indptr, att_station,
                att_extra, direct_station, direct_dist, wanted, k, limit, n_stations):
    """Dijkstra from a rider (at ``start_node`` nodes, ``start_dist`` metres away) until ``k``
    ``wanted`` stations are settled or ``limit`` metres are passed.

    Returns ``(stations, metres, node_before, station_from)``: the stations found nearest
    first, and for routes the node each node and each station was reached from (-1: straight
    from the rider).  Stations are heap entries numbered ``n + station``.
    """
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    node_before = np.full(n, -1, dtype=np.int32)
    sdist = np.full(n_stations, np.inf)
    station_from = np.full(n_stations, -1, dtype=np.int32)
    done = np.zeros(n_stations, dtype=np.bool_)
    keys = np.empty(1024)
    items = np.empty(1024, dtype=np.int64)
    unused = np.zeros(1024, dtype=np.int64)
    size = 0
    for i in range(start_node.size):
        if start_dist[i] < dist[start_node[i]]:
            dist[start_node[i]] = start_dist[i]
            keys, items, unused, size = _add(keys, items, unused, size, start_dist[i],
                                             start_node[i], 0)
    for i in range(direct_station.size):
        s = direct_station[i]
        if direct_dist[i] < sdist[s]:
            sdist[s] = direct_dist[i]
            keys, items, unused, size = _add(keys, items, unused, size, direct_dist[i], n + s, 0)
    found = np.full(k, -1, dtype=np.int64)
    found_m = np.full(k, np.inf)
    got = 0
    while size and got < k:
        d, item, _ = _pop(keys, items, unused, size)
        size -= 1
        if d > limit:
            break
        if item >= n:
            s = item - n
            if done[s] or d > sdist[s]:
                continue
            done[s] = True
            if wanted[s]:
                found[got] = s
                found_m[got] = d
                got += 1
            continue
        if d > dist[item]:
            continue
        for j in range(att_indptr[item], att_indptr[item + 1]):
            s = att_station[j]
            if d + att_extra[j] < sdist[s]:
                sdist[s] = d + att_extra[j]
                station_from[s] = item
                keys, items, unused, size = _add(keys, items, unused, size, sdist[s], n + s, 0)
        for e in range(indptr[item], indptr[item + 1]):
            other = indices[e]
            if d + weights[e] < dist[other]:
                dist[other] = d + weights[e]
                node_before[other] = item
                keys, items, unused, size = _add(keys, items, unused, size, dist[other],
                                                 other, 0)
    return found[:got], found_m[:got], node_before, station_from


@njit(cache=True, inline="always")
def _emit(groups, nodes, metres, count, group, node, d):
    if count == groups.size:
        groups, nodes, metres = _grow(groups), _grow(nodes), _grow(metres)
    groups[count], nodes[count], metres[count] = group, node, d
    return groups, nodes, metres, count + 1


@njit(cache=True, inline="always")
def _relax(dist, touched, n_touched, keys, items, unused, size, node, d, limit):
    """Queue ``node`` at ``d`` metres if that is within ``limit`` and shorter than known."""
    if d <= limit and d < dist[node]:
        if dist[node] == np.inf:
            touched[n_touched] = node
            n_touched += 1
        dist[node] = d
        keys, items, unused, size = _add(keys, items, unused, size, d, node, 0)
    return keys, items, unused, size, n_touched


@njit(cache=True, nogil=True)
def within_limit(indptr, indices, weights, group_indptr, src_node, src_dist, limit):
    """One Dijkstra per group of sources (a site's attachment nodes, with their extra metres),
    each stopping at ``limit`` metres: every node it reaches, as ``(group, node, metres)``.

    The distance array is reset through the list of nodes touched, so thousands of small
    searches on a big graph cost what they reach, not the graph's size each.
    """
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    touched = np.empty(n, dtype=np.int64)
    keys = np.empty(1024)
    items = np.empty(1024, dtype=np.int64)
    unused = np.zeros(1024, dtype=np.int64)
    groups = np.empty(1024, dtype=np.int64)
    nodes = np.empty(1024, dtype=np.int64)
    metres = np.empty(1024)
    count = 0
    for g in range(group_indptr.size - 1):
        size = 0
        n_touched = 0
        for i in range(group_indptr[g], group_indptr[g + 1]):
            keys, items, unused, size, n_touched = _relax(
                dist, touched, n_touched, keys, items, unused, size, src_node[i], src_dist[i],
                limit)
        while size:
            d, node, _ = _pop(keys, items, unused, size)
            size -= 1
            if d > dist[node]:
                continue
            groups, nodes, metres, count = _emit(groups, nodes, metres, count, g, node, d)
            for e in range(indptr[node], indptr[node + 1]):
                keys, items, unused, size, n_touched = _relax(
                    dist, touched, n_touched, keys, items, unused, size, indices[e],
                    d + weights[e], limit)
        for j in range(n_touched):
            dist[touched[j]] = np.inf
    return groups[:count], nodes[:count], metres[:count]


@njit(cache=True, nogil=True)
def join_at_nodes(node_indptr, node_group, node_metres, exit_point, exit_node, exit_metres,
                  limit):
    """``(group, point)`` pairs where a point's way onto node ``e`` (``exit_metres``) plus the
    group's metres from ``e`` (rows of ``node_indptr``) stay within ``limit``."""
    groups = np.empty(1024, dtype=np.int64)
    points = np.empty(1024, dtype=np.int64)
    unused = np.empty(1024)
    count = 0
    for i in range(exit_point.size):
        node = exit_node[i]
        budget = limit - exit_metres[i]
        for j in range(node_indptr[node], node_indptr[node + 1]):
            if node_metres[j] <= budget:
                groups, points, unused, count = _emit(groups, points, unused, count,
                                                      node_group[j], exit_point[i], 0.0)
    return groups[:count], points[:count]
