"""Road network from GeoJSON: pieces (LineStrings with id, route, name, priority, oneway), nodes and shortest paths.

priority is an integer as in the backend registry: 1 = main road (plowed first, faster), 2 and up = minor streets.

Pieces meet where their end points coincide (to 0.5 m). A one-way piece may only be driven in the
direction its coordinates run. Shortest paths are Dijkstra over piece lengths.
"""
from __future__ import annotations

import heapq
import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..geo import LocalFrame

MAIN_PRIORITY = 1  # priority at or below this is a main road


@dataclass(frozen=True)
class Piece:
    """One road piece in local metres."""

    id: str
    route: str
    name: str
    priority: int
    oneway: bool
    xy: tuple[tuple[float, float], ...]
    start: int  # node index
    end: int
    length_m: float = 0.0  # along the polyline, m; filled in from xy

    def __post_init__(self) -> None:
        object.__setattr__(self, "length_m", sum(math.dist(a, b) for a, b in zip(self.xy, self.xy[1:])))

    @property
    def main(self) -> bool:
        """True for a main road (priority 1 or 0)."""
        return self.priority <= MAIN_PRIORITY


@dataclass(frozen=True)
class Edge:
    """A piece driven in one direction."""

    piece: Piece
    forward: bool

    @property
    def head(self) -> int:
        """Node the edge leaves from."""
        return self.piece.start if self.forward else self.piece.end

    @property
    def tail(self) -> int:
        """Node the edge arrives at."""
        return self.piece.end if self.forward else self.piece.start

    @property
    def xy(self) -> tuple[tuple[float, float], ...]:
        """Polyline in driving order."""
        return self.piece.xy if self.forward else tuple(reversed(self.piece.xy))


class RoadNetwork:
    """Pieces, nodes and directed edges of a road network."""

    def __init__(self, pieces: list[Piece], nodes: list[tuple[float, float]], frame: LocalFrame):
        self.pieces = pieces
        self.nodes = nodes
        self.frame = frame
        self.out_edges: dict[int, list[Edge]] = {i: [] for i in range(len(nodes))}
        for p in pieces:
            self.out_edges[p.start].append(Edge(p, True))
            if not p.oneway:
                self.out_edges[p.end].append(Edge(p, False))
        # (next node, length, edge) per node: Dijkstra's inner loop without attribute look-ups.
        self._adjacent = {n: [(e.tail, e.piece.length_m, e) for e in es] for n, es in self.out_edges.items()}

    @classmethod
    def from_geojson(cls, path: str | Path, frame: LocalFrame) -> "RoadNetwork":
        """Load a FeatureCollection of LineStrings; errors name the feature and the property."""
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc.get("type") != "FeatureCollection":
            raise ValueError(f"{path}: expected a GeoJSON FeatureCollection")
        node_index: dict[tuple[int, int], int] = {}
        nodes: list[tuple[float, float]] = []

        def node(xy: tuple[float, float]) -> int:
            key = (round(xy[0] * 2), round(xy[1] * 2))
            if key not in node_index:
                node_index[key] = len(nodes)
                nodes.append(xy)
            return node_index[key]

        pieces: list[Piece] = []
        seen: set[str] = set()
        for i, feat in enumerate(doc.get("features", [])):
            props = feat.get("properties") or {}
            where = f"{path}: features[{i}] (id {props.get('id')!r})"
            geom = feat.get("geometry") or {}
            if geom.get("type") != "LineString" or len(geom.get("coordinates", [])) < 2:
                raise ValueError(f"{where}: geometry must be a LineString with at least 2 points")
            for key in ("id", "route", "name", "priority", "oneway"):
                if key not in props:
                    raise ValueError(f"{where}: property {key!r} is missing")
            if not isinstance(props["priority"], int) or isinstance(props["priority"], bool) or props["priority"] < 0:
                raise ValueError(f"{where}: priority {props['priority']!r} must be an integer >= 0 (1 = main road)")
            if not isinstance(props["oneway"], bool):
                raise ValueError(f"{where}: oneway must be true or false")
            if props["id"] in seen:
                raise ValueError(f"{where}: id {props['id']!r} appears twice")
            seen.add(props["id"])
            xy = tuple(frame.to_xy(float(c[0]), float(c[1])) for c in geom["coordinates"])
            pieces.append(Piece(props["id"], props["route"], props["name"], props["priority"], props["oneway"],
                                xy, node(xy[0]), node(xy[-1])))
        return cls(pieces, nodes, frame)

    def route_pieces(self, route: str) -> list[Piece]:
        """Pieces of one route, in file order."""
        return [p for p in self.pieces if p.route == route]

    def nearest_node(self, xy: tuple[float, float]) -> int:
        """Index of the node closest to a point."""
        return min(range(len(self.nodes)), key=lambda i: math.dist(self.nodes[i], xy))

    def shortest_paths(self, source: int) -> tuple[dict[int, float], dict[int, Edge]]:
        """Dijkstra from `source`: (distance m by node, the edge that reaches each node)."""
        dist = {source: 0.0}
        via: dict[int, Edge] = {}
        heap = [(0.0, source)]
        while heap:
            d, n = heapq.heappop(heap)
            if d > dist.get(n, math.inf):
                continue
            for tail, length_m, e in self._adjacent[n]:
                nd = d + length_m
                if nd < dist.get(tail, math.inf):
                    dist[tail] = nd
                    via[tail] = e
                    heapq.heappush(heap, (nd, tail))
        return dist, via

    @staticmethod
    def path_to(via: dict[int, Edge], source: int, target: int) -> list[Edge]:
        """Edges from source to target given Dijkstra's `via` map."""
        out: list[Edge] = []
        n = target
        while n != source:
            e = via[n]
            out.append(e)
            n = e.head
        return out[::-1]
