/* District outlines and district choropleths on planner maps (stations/maps/district_map.py).
   cfg.features: GeoJSON features whose properties hold name, rows ([label, value] pairs for the
   tooltip) and colours (metric key -> fill colour), or for plain outlines a label drawn at
   "at" ([lat, lon]).  cfg.metrics: [{key, title, legend}], empty
   for plain outlines.  cfg.canvas draws the polygons on one canvas (many districts).  Text from the data is only ever set with textContent. */
window.StationsMap.mountDistricts = function (map, cfg) {
  "use strict";
  var SM = window.StationsMap;
  var metrics = cfg.metrics || [];
  var current = metrics.length ? metrics[0] : null;

  function style(feature) {
    if (!current) {
      return { color: "#444", weight: 1.2, opacity: 0.8, fill: false, dashArray: "5 3" };
    }
    return { color: "#555", weight: 0.6, opacity: 0.9,
             fillColor: feature.properties.colours[current.key], fillOpacity: 0.65 };
  }

  function tooltip(feature) {
    var box = SM.el("div", "stations-district-tip");
    box.appendChild(SM.el("strong", null, feature.properties.name));
    feature.properties.rows.forEach(function (row) {
      box.appendChild(SM.el("div", null, row[0] + ": " + row[1]));
    });
    return box;
  }

  var layer = L.geoJSON({ type: "FeatureCollection", features: cfg.features }, {
    style: style,
    renderer: cfg.canvas ? L.canvas({ padding: 0.5 }) : undefined,
    interactive: metrics.length > 0,
    onEachFeature: function (feature, item) {
      if (metrics.length) {
        item.bindTooltip(function () { return tooltip(feature); }, { sticky: true });
      }
    }
  }).addTo(map);
  map.stationsDistricts = layer;
  cfg.features.forEach(function (feature) {
    if (feature.properties.label) {
      L.tooltip({ permanent: true, direction: "center", className: "stations-district-label",
                  interactive: false })
        .setLatLng(feature.properties.at)
        .setContent(SM.el("span", null, feature.properties.label))
        .addTo(map);
    }
  });

  if (metrics.length) {
    SM.control("bottomright", function () {
      var box = SM.foldingPanel("stations-legend", cfg.legendTitle);
      var select = SM.el("select", "stations-district-metric");
      metrics.forEach(function (metric) {
        var option = SM.el("option", null, metric.title);
        option.value = metric.key;
        select.appendChild(option);
      });
      var rows = SM.el("div");
      function fill() {
        rows.textContent = "";
        current.legend.forEach(function (item) {
          var row = SM.el("div", "stations-legend-row");
          var key = SM.el("span", "stations-legend-key");
          key.style.background = item.swatch;
          row.appendChild(key);
          row.appendChild(SM.el("span", null, item.label));
          rows.appendChild(row);
        });
      }
      select.addEventListener("change", function () {
        current = metrics.filter(function (m) { return m.key === select.value; })[0];
        layer.setStyle(style);
        fill();
      });
      box.appendChild(select);
      box.appendChild(rows);
      fill();
      return box;
    }).addTo(map);
  }
  if (cfg.summary) {
    SM.addSummary(map, cfg.summary.title, cfg.summary.rows);
    SM.addLocateControl(map, cfg.crs);
    SM.addFullscreenControl(map);
  }
  return layer;
};
