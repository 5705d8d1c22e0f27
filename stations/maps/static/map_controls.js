/* Controls shared by the station map and the coverage map: the GCJ-02 shift for the Amap base
 * map, "locate me", fullscreen and a legend.  Text from data is always set with textContent,
 * never parsed as HTML. */
(function () {
  "use strict";
  var KRASOVSKY_A = 6378245.0;
  var KRASOVSKY_EE = 0.00669342162296594323;

  function outsideChina(lon, lat) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  /* The public GCJ-02 forward transform, the same formula as stations/crs.py. */
  function wgs84ToGcj02(lon, lat) {
    if (outsideChina(lon, lat)) { return [lon, lat]; }
    var pi = Math.PI, x = lon - 105.0, y = lat - 35.0;
    var common = (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += common;
    dlat += (20.0 * Math.sin(y * pi) + 40.0 * Math.sin(y / 3.0 * pi)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * pi) + 320.0 * Math.sin(y * pi / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlon += common;
    dlon += (20.0 * Math.sin(x * pi) + 40.0 * Math.sin(x / 3.0 * pi)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * pi) + 300.0 * Math.sin(x / 30.0 * pi)) * 2.0 / 3.0;
    var radlat = lat / 180.0 * pi;
    var magic = 1.0 - KRASOVSKY_EE * Math.sin(radlat) * Math.sin(radlat);
    var sqrtmagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrtmagic) * pi);
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrtmagic * Math.cos(radlat) * pi);
    return [lon + dlon, lat + dlat];
  }

  /* A WGS84 position (such as the browser's own) in the base map's coordinate system. */
  function toDisplay(latlng, crs) {
    if (crs !== "gcj02") { return L.latLng(latlng.lat, latlng.lng); }
    var shifted = wgs84ToGcj02(latlng.lng, latlng.lat);
    return L.latLng(shifted[1], shifted[0]);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function control(position, build) {
    var Ctl = L.Control.extend({
      options: { position: position },
      onAdd: function (map) {
        var box = build(map);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    return new Ctl();
  }

  function button(container, label, title, onClick) {
    var link = el("a", "stations-button", label);
    link.href = "#";
    link.title = title;
    link.setAttribute("role", "button");
    link.setAttribute("aria-label", title);
    L.DomEvent.on(link, "click", function (event) {
      L.DomEvent.preventDefault(event);
      onClick();
    });
    container.appendChild(link);
    return link;
  }

  function addLocateControl(map, crs) {
    var layer = L.layerGroup().addTo(map);
    var status;
    control("topleft", function () {
      var box = el("div", "leaflet-bar stations-locate");
      button(box, "📍", "我的位置 Show my location", function () {
        status.textContent = "正在定位… Locating…";
        map.locate({ setView: false, enableHighAccuracy: true, timeout: 15000 });
      });
      status = el("div", "stations-locate-status");
      box.appendChild(status);
      return box;
    }).addTo(map);
    map.on("locationfound", function (event) {
      var here = toDisplay(event.latlng, crs);
      layer.clearLayers();
      L.circle(here, { radius: event.accuracy, weight: 1, fillOpacity: 0.1 }).addTo(layer);
      L.circleMarker(here, { radius: 7, color: "#fff", weight: 2, fillColor: "#1a73e8",
                             fillOpacity: 1 }).addTo(layer).bindTooltip("我的位置 You are here");
      status.textContent = "";
      status.parentNode.dataset.lat = here.lat;
      status.parentNode.dataset.lng = here.lng;
      map.setView(here, Math.max(map.getZoom(), 15));
    });
    map.on("locationerror", function (event) {
      status.textContent = "无法定位 Location unavailable: " + event.message;
    });
  }

  function addFullscreenControl(map) {
    control("topleft", function () {
      var box = el("div", "leaflet-bar stations-fullscreen");
      button(box, "⤢", "全屏 Fullscreen", function () {
        var container = map.getContainer();
        if (document.fullscreenElement) {
          document.exitFullscreen();
        } else if (container.requestFullscreen) {
          container.requestFullscreen();
        }
      });
      return box;
    }).addTo(map);
    document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
  }

  /* A panel with a title that folds it; on phones it starts folded to leave room for the map. */
  function foldingPanel(className, title) {
    var box = el("details", "stations-panel " + className);
    box.open = window.innerWidth >= 600;
    box.appendChild(el("summary", "stations-panel-title", title));
    return box;
  }

  /* The map shows ``bounds`` clear of the panels on the right (which are folded on phones). */
  function fitClearOfPanels(map, bounds) {
    var right = window.innerWidth >= 600 ? 320 : 20;
    map.fitBounds(bounds, { paddingTopLeft: [60, 30], paddingBottomRight: [right, 30],
                            maxZoom: 16 });
  }

  /* items: [{swatch: CSS colour or null, icon: text or null, label: text}] */
  function addLegend(map, title, items) {
    control("bottomright", function () {
      var box = foldingPanel("stations-legend", title);
      items.forEach(function (item) {
        var row = el("div", "stations-legend-row");
        var key = el("span", "stations-legend-key", item.icon || "");
        if (item.swatch) { key.style.background = item.swatch; }
        row.appendChild(key);
        row.appendChild(el("span", null, item.label));
        box.appendChild(row);
      });
      return box;
    }).addTo(map);
  }

  window.StationsMap = {
    wgs84ToGcj02: wgs84ToGcj02,
    toDisplay: toDisplay,
    el: el,
    control: control,
    foldingPanel: foldingPanel,
    fitClearOfPanels: fitClearOfPanels,
    addLocateControl: addLocateControl,
    addFullscreenControl: addFullscreenControl,
    addLegend: addLegend
  };
})();

/* The summary block of the coverage map: rows of [label, value] as plain text. */
window.StationsMap.addSummary = function (map, title, rows) {
  "use strict";
  var el = window.StationsMap.el;
  window.StationsMap.control("topright", function () {
    var box = el("div", "stations-panel stations-summary");
    box.appendChild(el("div", "stations-panel-title", title));
    var table = el("table");
    rows.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("td", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }).addTo(map);
};
