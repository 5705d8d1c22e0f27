/* The office console's maps.  Every page works without this script; it only adds the map.
 *
 * On the station list and the reports inbox: the stations listed.  In the station editor: a pin that can be dragged
 * and writes its WGS84 position into the longitude and latitude fields, which stay the form's
 * only position.  Base map: Amap (drawn in GCJ-02) or OpenStreetMap (WGS84), as the member of
 * staff chooses (remembered in this browser).  The server sends each position in both systems
 * and converts a dragged pin back (GET /console/position), so the GCJ-02 formula lives only in
 * stations/crs.py.  Text from data is always set with textContent, never parsed as HTML. */
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.L || !window.fetch) { return; }
  var CHOICE_KEY = "stations-console-basemap";
  var tiles = JSON.parse(box.dataset.tiles);
  var picker = document.getElementById("basemap");
  var note = document.getElementById("map-note");
  var chosen = remembered();
  var layer = null;

  function remembered() {
    var saved = null;
    try { saved = window.localStorage.getItem(CHOICE_KEY); } catch (ignored) { saved = null; }
    if (tiles[saved]) { return saved; }
    return tiles.amap ? "amap" : Object.keys(tiles)[0];
  }

  /* A position as the server sent it ({wgs84: [lon, lat], gcj02: [lon, lat]}) on these tiles. */
  function shown(position) {
    var lonLat = position[tiles[chosen].crs];
    return L.latLng(lonLat[1], lonLat[0]);
  }

  function useTiles() {
    var source = tiles[chosen];
    if (layer) { map.removeLayer(layer); }
    // The attribution is the server's own constant text (stations/tiles.py), not data.
    layer = L.tileLayer(source.url, {
      subdomains: source.subdomains, maxZoom: source.max_zoom, attribution: source.attribution
    }).addTo(map);
    map.setMaxZoom(source.max_zoom);
  }

  function text(tag, className, value) {
    var node = document.createElement(tag);
    node.className = className;
    node.textContent = value;
    return node;
  }

  function say(message) { note.textContent = message || ""; }

  /* ---------- lists: one marker per listed station (an element with class "station") ---------- */

  function stationMarkers() {
    var markers = [];
    document.querySelectorAll(".station[data-pos]").forEach(function (row) {
      var open = row.dataset.status === "open";
      var marker = L.circleMarker([0, 0], {
        radius: 7, weight: 2, color: "#fff", fillColor: open ? "#b71c1c" : "#777", fillOpacity: 0.9
      });
      marker.position = JSON.parse(row.dataset.pos);
      marker.bindPopup(function () {
        var link = row.querySelector("a.name");
        var popup = document.createElement("div");
        var name = text("a", "name", link.textContent);
        name.href = link.href;
        popup.appendChild(name);
        ["address", "status"].forEach(function (line) {
          var source = row.querySelector("." + line);
          if (source) { popup.appendChild(text("div", line, source.textContent)); }
        });
        return popup;
      });
      markers.push(marker.addTo(map));
    });
    return markers;
  }

  function showStations(markers) {
    markers.forEach(function (marker) { marker.setLatLng(shown(marker.position)); });
    if (markers.length) {
      map.fitBounds(L.featureGroup(markers).getBounds(), { padding: [24, 24], maxZoom: 16, animate: false });
    } else {
      map.setView([35.0, 105.0], 4, { animate: false });
    }
  }

  /* ---------- the station editor: a pin bound to the position fields ---------- */

  function pinEditor() {
    var position = JSON.parse(box.dataset.pin);
    var lon = document.getElementById("f-lon"), lat = document.getElementById("f-lat");
    var save = document.getElementById("save");
    var pending = 0;
    var pin = L.marker(shown(position), {
      draggable: true, autoPan: true, title: document.getElementById("pin-help").textContent,
      icon: L.divIcon({ className: "pin", iconSize: [24, 24], iconAnchor: [12, 12] })
    }).addTo(map);
    document.getElementById("pin-help").hidden = false;

    /* Ask the server for a position in both systems; saving waits until it has answered. */
    function convert(x, y, crs, done) {
      var asked = ++pending;
      save.disabled = true;
      say(box.dataset.converting);
      var query = new URLSearchParams({ lon: String(x), lat: String(y), crs: crs });
      fetch("/console/position?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (answer) {
          if (!answer.ok) { throw new Error("HTTP " + answer.status); }
          return answer.json();
        })
        .then(function (answer) {
          if (asked !== pending) { return; }
          position = answer;
          pin.setLatLng(shown(position));
          save.disabled = false;
          done();
        })
        .catch(function () {
          if (asked !== pending) { return; }
          pin.setLatLng(shown(position));
          save.disabled = false;
          say(box.dataset.failed);
        });
    }

    pin.on("dragend", function () {
      var dropped = pin.getLatLng();
      convert(dropped.lng, dropped.lat, tiles[chosen].crs, function () {
        lon.value = position.wgs84[0].toFixed(7);
        lat.value = position.wgs84[1].toFixed(7);
        say(box.dataset.moved);
      });
    });

    function typed() {
      if (lon.value === "" || lat.value === "" || !lon.validity.valid || !lat.validity.valid) { return; }
      convert(Number(lon.value), Number(lat.value), "wgs84", function () {
        say("");
        map.panTo(shown(position), { animate: false });
      });
    }
    lon.addEventListener("change", typed);
    lat.addEventListener("change", typed);

    return function () {
      pin.setLatLng(shown(position));
      map.setView(shown(position), Math.min(Number(box.dataset.zoom), tiles[chosen].max_zoom), { animate: false });
    };
  }

  box.hidden = false;
  document.getElementById("map-bar").hidden = false;
  picker.value = chosen;
  var map = L.map(box, { zoomControl: true });
  map.attributionControl.setPrefix("Leaflet");
  var redraw;
  if (box.dataset.pin) {
    redraw = pinEditor();
  } else {
    var markers = stationMarkers();
    redraw = function () { showStations(markers); };
  }
  useTiles();
  redraw();

  picker.addEventListener("change", function () {
    chosen = picker.value;
    try { window.localStorage.setItem(CHOICE_KEY, chosen); } catch (ignored) { /* private mode */ }
    useTiles();
    redraw();
  });
})();
