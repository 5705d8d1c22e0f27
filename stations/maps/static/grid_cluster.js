/* A clustering layer that stays fast with 150,000 points.
 *
 * Leaflet.markercluster builds a cluster tree for every zoom level up front; for 150,000
 * stations that took over 10 s in Chromium here.  This layer instead groups only the points
 * in view, on each move: every point has its Web Mercator position computed once, and a
 * redraw sorts the active points into square cells of the screen grid (anchored to the world,
 * so clusters stay put while panning).  A cell with one point becomes that point's pin; a cell
 * with more becomes a bubble with the count, drawn with markercluster's styles.  From
 * ``allPinsFromZoom`` on, every point gets its own pin. */
(function () {
  "use strict";
  var CELL_KEY = 4194304;  // 2^22 cells per row: enough for zoom 20 with 64 px cells

  function clusterIcon(count) {
    var size = count < 10 ? "small" : count < 100 ? "medium" : "large";
    return L.divIcon({ html: "<div><span>" + Number(count) + "</span></div>",
                       className: "marker-cluster marker-cluster-" + size,
                       iconSize: L.point(40, 40) });
  }

  /* Points near a cell edge make neighbouring cells whose bubbles overlap; fold each cell
   * into a bigger one whose centre is closer than ``distancePx``.  There are at most a few
   * hundred cells in view, so the quadratic pass is cheap. */
  function mergeNeighbours(cells, distancePx) {
    cells.sort(function (a, b) { return b.n - a.n; });
    var kept = [];
    cells.forEach(function (cell) {
      var cx = cell.sx / cell.n, cy = cell.sy / cell.n;
      for (var k = 0; k < kept.length; k++) {
        var other = kept[k];
        var dx = other.sx / other.n - cx, dy = other.sy / other.n - cy;
        if (dx * dx + dy * dy < distancePx * distancePx) {
          other.n += cell.n; other.sx += cell.sx; other.sy += cell.sy;
          other.minX = Math.min(other.minX, cell.minX); other.maxX = Math.max(other.maxX, cell.maxX);
          other.minY = Math.min(other.minY, cell.minY); other.maxY = Math.max(other.maxY, cell.maxY);
          return;
        }
      }
      kept.push(cell);
    });
    return kept;
  }

  window.StationsMap.GridCluster = L.Layer.extend({
    options: { cellPx: 64, allPinsFromZoom: 17 },

    /* latlngs: display positions; makePin(index) returns a marker for one point. */
    initialize: function (latlngs, makePin, options) {
      L.setOptions(this, options);
      var n = latlngs.length;
      this._latlngs = latlngs;
      this._x = new Float64Array(n);
      this._y = new Float64Array(n);
      for (var i = 0; i < n; i++) {
        var s = Math.sin(latlngs[i].lat * Math.PI / 180);
        this._x[i] = (latlngs[i].lng + 180) / 360;
        this._y[i] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
      }
      this._active = new Int32Array(n).map(function (_v, k) { return k; });
      this._makePin = makePin;
      this._group = L.layerGroup();
    },

    /* Show only the points whose indices are given (for example after a filter). */
    setActive: function (indices) {
      this._active = indices;
      if (this._map) { this._redraw(); }
    },

    onAdd: function (map) {
      this._group.addTo(map);
      map.on("moveend", this._redraw, this);
      this._redraw();
    },

    onRemove: function (map) {
      map.off("moveend", this._redraw, this);
      this._group.remove();
    },

    _redraw: function () {
      var map = this._map, zoom = map.getZoom(), world = 256 * Math.pow(2, zoom);
      var cellPx = this.options.cellPx, view = map.getPixelBounds();
      var minX = view.min.x - cellPx, maxX = view.max.x + cellPx;
      var minY = view.min.y - cellPx, maxY = view.max.y + cellPx;
      var everyPin = zoom >= this.options.allPinsFromZoom;
      var cells = new Map(), pins = [];
      for (var k = 0; k < this._active.length; k++) {
        var i = this._active[k], px = this._x[i] * world, py = this._y[i] * world;
        if (px < minX || px > maxX || py < minY || py > maxY) { continue; }
        if (everyPin) { pins.push(i); continue; }
        var key = Math.floor(px / cellPx) * CELL_KEY + Math.floor(py / cellPx);
        var cell = cells.get(key);
        if (!cell) {
          cell = { n: 0, sx: 0, sy: 0, first: i, minX: px, maxX: px, minY: py, maxY: py };
          cells.set(key, cell);
        }
        cell.n += 1; cell.sx += px; cell.sy += py;
        cell.minX = Math.min(cell.minX, px); cell.maxX = Math.max(cell.maxX, px);
        cell.minY = Math.min(cell.minY, py); cell.maxY = Math.max(cell.maxY, py);
      }
      var group = this._group, self = this;
      group.clearLayers();
      mergeNeighbours(Array.from(cells.values()), cellPx * 0.75).forEach(function (cell) {
        if (cell.n === 1) { pins.push(cell.first); return; }
        group.addLayer(self._clusterMarker(cell, zoom));
      });
      pins.forEach(function (i) { group.addLayer(self._makePin(i)); });
      this.fire("redraw", { clusters: cells.size, pins: pins.length });
    },

    _clusterMarker: function (cell, zoom) {
      var map = this._map;
      var centre = map.unproject(L.point(cell.sx / cell.n, cell.sy / cell.n), zoom);
      var bounds = L.latLngBounds(map.unproject(L.point(cell.minX, cell.minY), zoom),
                                  map.unproject(L.point(cell.maxX, cell.maxY), zoom));
      var maxZoom = this.options.allPinsFromZoom;
      var marker = L.marker(centre, { icon: clusterIcon(cell.n), keyboard: false,
                                      title: cell.n + " 个驿站 stations" });
      marker.on("click", function () {
        var target = Math.min(map.getBoundsZoom(bounds.pad(0.2)), maxZoom);
        map.setView(bounds.getCenter(), Math.max(target, zoom + 1));
      });
      return marker;
    }
  });
})();
