/* The station layer: decodes the compact station table shipped in the page, clusters the
 * stations in view (grid_cluster.js), and builds pins, popups, tooltips and search results on
 * demand.  Amenity filters hand the clustering the filtered stations, so filtering and
 * clustering always agree.  Every text from the data is set with textContent. */
(function () {
  "use strict";
  var SM = window.StationsMap;
  var REPORTED_COLOR = "#ffd600";  /* ring around stations with open problem reports */
  var el = SM.el;

  function base64ToBytes(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return bytes;
  }

  function decodePayload(b64) {
    var stream = new Blob([base64ToBytes(b64)]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  /* Coordinates arrive as running sums of integer micro-degrees. */
  function undelta(values, scale) {
    var out = new Float64Array(values.length), acc = 0;
    for (var i = 0; i < values.length; i++) { acc += values[i]; out[i] = acc / scale; }
    return out;
  }

  /* A text column is either a plain list or {levels, codes} for repetitive values. */
  function column(spec) {
    if (Array.isArray(spec)) { return spec; }
    return spec.codes.map(function (code) { return spec.levels[code]; });
  }

  function Stations(payload, config) {
    var scale = payload.scale;
    this.n = payload.count;
    this.lon = undelta(payload.lon, scale);
    this.lat = undelta(payload.lat, scale);
    this.gcj = [payload.gcj_dlon, payload.gcj_dlat];
    this.bd = [payload.bd_dlon, payload.bd_dlat];
    this.scale = scale;
    this.mask = payload.mask;
    this.status = payload.status;
    this.reports = {};  /* station index -> open problem reports */
    (payload.reports || []).forEach(function (pair) { this.reports[pair[0]] = pair[1]; }, this);
    this.text = {};
    for (var key in payload.text) { this.text[key] = column(payload.text[key]); }
    this.config = config;
  }
  Stations.prototype.shifted = function (i, delta) {
    return [this.lon[i] + delta[0][i] / this.scale, this.lat[i] + delta[1][i] / this.scale];
  };
  Stations.prototype.displayLatLng = function (i) {
    var p = this.config.crs === "gcj02" ? this.shifted(i, this.gcj) : [this.lon[i], this.lat[i]];
    return L.latLng(p[1], p[0]);
  };

  function navigationLinks(st, i) {
    var name = encodeURIComponent(st.text.name[i]);
    var gcj = st.shifted(i, st.gcj), bd = st.shifted(i, st.bd);
    var amap = "https://uri.amap.com/marker?position=" + gcj[0].toFixed(6) + "," +
      gcj[1].toFixed(6) + "&name=" + name + "&coordinate=gaode&callnative=1";
    var baidu = "https://api.map.baidu.com/marker?location=" + bd[1].toFixed(6) + "," +
      bd[0].toFixed(6) + "&title=" + name + "&content=" +
      encodeURIComponent(st.text.address[i]) + "&coord_type=bd09ll&output=html&src=stations";
    var box = el("div", "station-nav");
    [["高德导航 Amap", amap, "nav-amap"], ["百度导航 Baidu", baidu, "nav-baidu"]].forEach(
      function (link) {
        var a = el("a", link[2], link[0]);
        a.href = link[1];
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        box.appendChild(a);
      });
    return box;
  }

  function popupContent(st, i) {
    var cfg = st.config, t = st.text;
    var box = el("div", "station-popup");
    box.dataset.stationId = t.id[i];
    box.appendChild(el("div", "station-name", t.name[i]));
    if (t.name_en[i]) { box.appendChild(el("div", "station-name-en", t.name_en[i])); }
    var table = el("table", "station-facts");
    function row(label, value) {
      if (!value) { return; }
      var tr = el("tr");
      tr.appendChild(el("th", null, label));
      var td = el("td");
      if (value instanceof Node) { td.appendChild(value); } else { td.textContent = value; }
      tr.appendChild(td);
      table.appendChild(tr);
    }
    var status = cfg.statuses[st.status[i]];
    row("地址", t.address[i]);
    row("开放时间", t.hours[i]);
    var statusNode = el("span", "station-status", status.label);
    statusNode.style.color = status.color;
    row("状态", statusNode);
    if (st.reports[i]) {
      row("问题报告", el("span", "station-reports",
                         "⚠ " + st.reports[i] + " 个未处理 open report(s)"));
    }
    if (t.phone[i]) {
      var phone = el("a", "station-phone", t.phone[i]);
      phone.href = "tel:" + t.phone[i].replace(/[^0-9+]/g, "");
      row("电话", phone);
    }
    row("运营", t.operator[i]);
    box.appendChild(table);
    var list = el("ul", "station-amenities");
    cfg.amenities.forEach(function (amenity) {
      if (st.mask[i] & (1 << amenity.bit)) {
        var item = el("li", null, amenity.icon + " " + amenity.label_zh);
        item.title = amenity.label_en;
        item.dataset.amenity = amenity.code;
        list.appendChild(item);
      }
    });
    box.appendChild(list);
    box.appendChild(navigationLinks(st, i));
    return box;
  }

  function mountStations(map, config, payloadB64) {
    var state = window.stationMapState = { ready: false, total: 0, visible: 0 };
    return decodePayload(payloadB64).then(function (payload) {
      var st = new Stations(payload, config);
      var pinStyle = el("style", null, config.statuses.map(function (status, code) {
        return ".station-pin-" + code + " { background: " + status.color + "; }";
      }).concat([".station-pin-reported { outline: 3px solid " + REPORTED_COLOR + "; }"])
        .join("\n"));
      document.head.appendChild(pinStyle);
      function pinIcons(extraClass) {
        return config.statuses.map(function (status, code) {
          return L.divIcon({ className: "station-pin station-pin-" + code + extraClass,
                             iconSize: [16, 16], html: "" });
        });
      }
      var icons = pinIcons(""), reportedIcons = pinIcons(" station-pin-reported");
      var latlngs = new Array(st.n);
      for (var i = 0; i < st.n; i++) { latlngs[i] = st.displayLatLng(i); }
      state.total = st.n;
      var countNode;

      function openPopup(k) {
        L.popup({ maxWidth: 320, offset: [0, -4] }).setLatLng(latlngs[k])
          .setContent(popupContent(st, k)).openOn(map);
      }
      function makePin(k) {
        var icon = (st.reports[k] ? reportedIcons : icons)[st.status[k]];
        var pin = L.marker(latlngs[k], { icon: icon, keyboard: false });
        pin.on("click", function () { openPopup(k); });
        pin.bindTooltip(el("span", "station-tooltip", st.text.name[k]),
                        { direction: "top", offset: [0, -8] });
        return pin;
      }
      var cluster = new SM.GridCluster(latlngs, makePin);
      cluster.on("redraw", function () { state.ready = true; });

      var required = 0;
      function applyFilter() {
        var shown = [];
        for (var k = 0; k < st.n; k++) {
          if ((st.mask[k] & required) === required) { shown.push(k); }
        }
        state.visible = shown.length;
        countNode.textContent = "显示 " + shown.length + " / " + st.n + " 个驿站";
        countNode.dataset.visible = shown.length;
        cluster.setActive(Int32Array.from(shown));
      }

      SM.control("topright", function () {
        var box = el("div", "stations-panel stations-search");
        var input = el("input");
        input.type = "search";
        input.placeholder = "搜索驿站名称 Search by name";
        input.setAttribute("aria-label", "搜索驿站名称 Search by name");
        var results = el("ul", "stations-search-results");
        box.appendChild(input);
        box.appendChild(results);
        var lower = null, timer = null;
        function search() {
          var query = input.value.trim().toLowerCase();
          results.textContent = "";
          if (!query) { return; }
          lower = lower || st.text.name.map(function (name, k) {
            return (name + " " + st.text.name_en[k]).toLowerCase();
          });
          var found = 0;
          for (var k = 0; k < st.n && found < 10; k++) {
            /* Search within what the amenity filter shows, so a hit always has its pin. */
            if ((st.mask[k] & required) !== required || lower[k].indexOf(query) < 0) {
              continue;
            }
            found += 1;
            var item = el("li", "stations-search-hit");
            item.appendChild(el("div", "hit-name", st.text.name[k]));
            item.appendChild(el("div", "hit-address", st.text.address[k]));
            item.dataset.index = k;
            results.appendChild(item);
          }
          if (!found) { results.appendChild(el("li", "stations-search-none", "未找到 No match")); }
        }
        L.DomEvent.on(input, "input", function () {
          clearTimeout(timer);
          timer = setTimeout(search, 150);
        });
        L.DomEvent.on(results, "click", function (event) {
          var item = event.target.closest("li[data-index]");
          if (!item) { return; }
          var k = Number(item.dataset.index);
          map.setView(latlngs[k], Math.max(map.getZoom(), cluster.options.allPinsFromZoom));
          openPopup(k);
        });
        return box;
      }).addTo(map);

      SM.control("topright", function () {
        var box = SM.foldingPanel("stations-filter", "按设施筛选 Filter by amenity");
        countNode = el("div", "stations-count");  /* first, so scrolling never hides it */
        box.appendChild(countNode);
        config.amenities.forEach(function (amenity) {
          var have = 0;
          for (var k = 0; k < st.n; k++) { if (st.mask[k] & (1 << amenity.bit)) { have++; } }
          if (!have) { return; }
          var label = el("label", "stations-filter-row");
          var box2 = el("input");
          box2.type = "checkbox";
          box2.dataset.amenity = amenity.code;
          L.DomEvent.on(box2, "change", function () {
            required = box2.checked ? (required | (1 << amenity.bit))
                                    : (required & ~(1 << amenity.bit));
            applyFilter();
          });
          label.appendChild(box2);
          label.appendChild(el("span", null, " " + amenity.icon + " " + amenity.label_zh + " "));
          label.appendChild(el("small", null, amenity.label_en + " (" + have + ")"));
          box.appendChild(label);
        });
        return box;
      }).addTo(map);

      SM.addLegend(map, "图例 Legend", config.statuses.map(function (status) {
        return { swatch: status.color, label: status.label };
      }).concat([{ swatch: "rgba(241, 128, 23, 0.8)", icon: "n",
                   label: "气泡：该处 n 个驿站，点击放大 Cluster of n stations" }],
                Object.keys(st.reports).length ? [{ swatch: REPORTED_COLOR, icon: "⚠",
                  label: "有未处理的问题报告 Open problem reports" }] : []));
      if (config.riderPage) {
        SM.control("bottomleft", function () {
          var link = el("a", "stations-panel stations-rider-link",
                        "📱 离我最近的开放驿站 Nearest open stations to me");
          link.href = config.riderPage;
          return link;
        }).addTo(map);
      }
      SM.addLocateControl(map, config.crs);
      SM.addFullscreenControl(map);
      applyFilter();
      SM.fitClearOfPanels(map, config.bounds);
      cluster.addTo(map);
      return st;
    });
  }

  SM.mountStations = mountStations;
})();
