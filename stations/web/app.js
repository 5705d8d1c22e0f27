/* The rider page: find the nearest open union rest station, navigate there, report a problem.
 *
 * Every text that comes from the station data or from the server is put on the page with
 * textContent (never innerHTML), so a station called "<img onerror=...>" shows as text.
 * The page works without map tiles: the list is the main view and the map draws its markers
 * on a plain grid when tiles cannot load.
 *
 * Riders see the stations within riding reach (set by the operator, 20 km by default) that are
 * not known to be closed: a station whose hours nobody recorded is listed with a call-first
 * note.  When nothing is within reach, the page says so and offers the nearest station beyond.
 */
(function () {
  "use strict";

  var vocabulary = JSON.parse(document.getElementById("vocabulary").textContent);
  var TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
  var LIST_SIZE = 8;
  // The map frames the rider and up to three nearest stations, leaving out any that are far
  // beyond the nearest one (a station in another city would shrink the map to a dot).
  var FRAMED_STATIONS = 3;
  var FRAMED_DISTANCE_FACTOR = 3;
  var FRAMED_MIN_M = 2000;
  var LONGEST_WALK_MIN = 90;   // beyond this, walking is not an option worth showing
  var LONGEST_RIDE_MIN = 120;  // nor riding (a station offered beyond reach: distance only)
  var REACH_KM = vocabulary.reach_m / 1000;

  var TEXT = {
    zh: {
      title: "附近工会驿站", locate: "📍 用我的位置", manual: "输入坐标 / 点地图",
      manualHint: "在地图上点一下您的位置，或输入经纬度。", lon: "经度", lat: "纬度",
      crs: "坐标系", search: "查找", showClosed: "也显示已关闭的驿站", reportTitle: "报告问题",
      note: "补充说明（可选）", cancel: "取消", send: "确认提交", langButton: "EN",
      locating: "正在定位…", loading: "正在查找附近驿站…",
      found: "{km} 公里内离您最近的 {n} 个驿站", noneInReach: "{km} 公里内没有驿站。",
      noneOpenInReach: "{km} 公里内没有驿站（不算已关闭的）。",
      noneMatching: "{km} 公里内没有符合条件的驿站。可以少选几项设施。",
      nowhere: "没有符合条件的驿站。可以少选几项设施。", beyond: "最近的驿站在 {d} 外：",
      walk: "🚶 步行 {n} 分钟", ride: "🛵 骑行约 {n} 分钟", byRoad: "（按道路）",
      straight: "（直线距离）", openState: "现在开放", closedState: "现在不开放",
      unknownState: "开放时间未知", callFirst: "开放时间未知，建议先打电话", statusClosed: "已关闭",
      statusPaused: "暂停开放", amap: "高德导航", baidu: "百度导航", call: "📞 打电话",
      report: "⚠ 报告问题", thanks: "已收到，谢谢！工会工作人员会去核实。",
      tooMany: "提交太频繁，请 {n} 秒后再试。", gone: "没有找到这个驿站。", failed: "出错了：{msg}",
      offline: "网络连接不上，请稍后再试。", you: "您的位置", amenityGroup: "服务设施",
      insecure: "浏览器只在 HTTPS 加密网页（或本机 localhost）上提供位置，这个网页不是，所以无法自动定位。",
      denied: "没有得到定位权限。可以在浏览器设置里允许定位，或者：",
      unavailable: "暂时无法定位（信号弱或定位超时）。可以再试一次，或者：",
      unsupported: "这个浏览器不支持定位。",
      fallback: "在地图上点一下您的位置，或在下面输入经纬度。",
      badCoords: "请输入有效的经度（-180 到 180）和纬度（-90 到 90）。", mapLabel: "驿站地图"
    },
    en: {
      title: "Rest stations nearby", locate: "📍 Use my location",
      manual: "Enter coordinates / tap the map",
      manualHint: "Tap your position on the map, or type longitude and latitude.",
      lon: "Longitude", lat: "Latitude", crs: "Coordinates from", search: "Search",
      showClosed: "Show closed stations too", reportTitle: "Report a problem", note: "Note (optional)",
      cancel: "Cancel", send: "Send report", langButton: "中文",
      locating: "Finding your position…", loading: "Looking for nearby stations…",
      found: "The {n} stations nearest to you within {km} km", noneInReach: "No station within {km} km.",
      noneOpenInReach: "No station within {km} km (closed ones not counted).",
      noneMatching: "No matching station within {km} km. Choose fewer amenities.",
      nowhere: "No station matches. Choose fewer amenities.", beyond: "The nearest station is {d} away:",
      walk: "🚶 {n} min walk", ride: "🛵 about {n} min by e-bike", byRoad: " (by road)",
      straight: " (straight-line)", openState: "Open now", closedState: "Closed now",
      unknownState: "Hours unknown", callFirst: "Hours unknown, call first", statusClosed: "Closed",
      statusPaused: "Temporarily closed", amap: "Amap", baidu: "Baidu Maps", call: "📞 Call",
      report: "⚠ Report a problem", thanks: "Received, thank you! Union staff will check it.",
      tooMany: "Too many reports. Please try again in {n} s.", gone: "This station was not found.",
      failed: "Something went wrong: {msg}", offline: "No network connection. Please try again.",
      you: "You are here", amenityGroup: "Amenities",
      insecure: "Browsers give your position only to pages served over HTTPS (or from localhost); this page is not, so it cannot locate you.",
      denied: "Permission to use your location was not given. Allow it in the browser settings, or:",
      unavailable: "Your position is not available right now (weak signal or timeout). Try again, or:",
      unsupported: "This browser cannot tell your position.",
      fallback: "tap your position on the map, or type longitude and latitude below.",
      badCoords: "Enter a valid longitude (-180 to 180) and latitude (-90 to 90).", mapLabel: "Station map"
    }
  };

  var state = {
    lang: readStoredLang(),
    position: null,          // {lon, lat} in WGS84
    amenities: [],           // selected amenity codes, in vocabulary order
    showClosed: false,       // stations known to be closed are hidden unless asked for
    features: [],            // within reach
    beyond: null,            // the nearest station beyond reach, when none is within
    distanceBasis: "straight",
    selectedId: null,
    request: null,
    reportStation: null,
    reportKind: null,
    notice: null             // text keys of the notice shown, redrawn when the language changes
  };

  var $ = function (id) { return document.getElementById(id); };

  /* A choice made with the language button wins; otherwise the browser's first language that
   * the page speaks, Chinese when it speaks none of them. */
  function readStoredLang() {
    var stored = null;
    try { stored = localStorage.getItem("lang"); } catch (e) { /* storage blocked */ }
    if (stored === "zh" || stored === "en") { return stored; }
    var wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i]).toLowerCase().split("-")[0];
      if (code === "zh" || code === "en") { return code; }
    }
    return "zh";
  }

  function t(key, values) {
    var text = TEXT[state.lang][key];
    Object.keys(values || {}).forEach(function (name) { text = text.replace("{" + name + "}", values[name]); });
    return text;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /* ---------- coordinate systems: Amap speaks GCJ-02, Baidu BD-09 (public algorithms) ---------- */

  var A = 6378245.0, EE = 0.00669342162296594323, X_PI = Math.PI * 3000.0 / 180.0;

  function outsideChina(lon, lat) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  function gcjOffset(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0, pi = Math.PI;
    var common = (20 * Math.sin(6 * x * pi) + 20 * Math.sin(2 * x * pi)) * 2 / 3;
    var dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common
      + (20 * Math.sin(y * pi) + 40 * Math.sin(y / 3 * pi)) * 2 / 3
      + (160 * Math.sin(y / 12 * pi) + 320 * Math.sin(y * pi / 30)) * 2 / 3;
    var dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common
      + (20 * Math.sin(x * pi) + 40 * Math.sin(x / 3 * pi)) * 2 / 3
      + (150 * Math.sin(x / 12 * pi) + 300 * Math.sin(x / 30 * pi)) * 2 / 3;
    var radLat = lat / 180 * pi, magic = 1 - EE * Math.pow(Math.sin(radLat), 2), sqrtMagic = Math.sqrt(magic);
    return [
      dLon * 180 / (A / sqrtMagic * Math.cos(radLat) * pi),
      dLat * 180 / ((A * (1 - EE)) / (magic * sqrtMagic) * pi)
    ];
  }

  function wgs84ToGcj02(lon, lat) {
    if (outsideChina(lon, lat)) { return [lon, lat]; }
    var d = gcjOffset(lon, lat);
    return [lon + d[0], lat + d[1]];
  }

  function gcj02ToBd09(lon, lat) {
    if (outsideChina(lon, lat)) { return [lon, lat]; }
    var z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
    var theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * X_PI);
    return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
  }

  function wgs84ToBd09(lon, lat) {
    var g = wgs84ToGcj02(lon, lat);
    return gcj02ToBd09(g[0], g[1]);
  }

  /* Typed coordinates may come from Amap or Baidu: undo their offset by fixed-point iteration. */
  function toWgs84(lon, lat, crs) {
    var forward = { gcj02: wgs84ToGcj02, bd09: wgs84ToBd09 }[crs];
    if (!forward || outsideChina(lon, lat)) { return [lon, lat]; }
    var x = lon, y = lat;
    for (var i = 0; i < 40; i++) {
      var f = forward(x, y), dx = f[0] - lon, dy = f[1] - lat;
      x -= dx; y -= dy;
      if (Math.abs(dx) < 1e-9 && Math.abs(dy) < 1e-9) { break; }
    }
    return [x, y];
  }

  /* ---------- text on the page ---------- */

  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    $("lang").textContent = t("langButton");
    $("chips").setAttribute("aria-label", t("amenityGroup"));
    $("map").setAttribute("aria-label", t("mapLabel"));
    renderChips();
    renderKinds();
    renderList();
    if (state.notice) { showNotice(state.notice); }
  }

  function amenityLabel(amenity) {
    return state.lang === "zh" ? amenity.label_zh : amenity.label_en;
  }

  function showNotice(keys) {
    state.notice = keys;
    var box = $("notice");
    box.replaceChildren();
    keys.forEach(function (key) { box.appendChild(el("p", null, t(key))); });
    box.hidden = false;
  }

  function hideNotice() {
    state.notice = null;
    $("notice").hidden = true;
  }

  var toastTimer = null;
  function toast(message) {
    var box = $("toast");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 5000);
  }

  /* ---------- amenity chips and the show-closed switch ---------- */

  function renderChips() {
    var box = $("chips");
    box.replaceChildren();
    vocabulary.filters.forEach(function (code) {
      var amenity = vocabulary.amenities[code];
      var chip = el("button", "chip", amenity.icon + " " + amenityLabel(amenity));
      chip.type = "button";
      chip.dataset.code = code;
      chip.setAttribute("aria-pressed", String(state.amenities.indexOf(code) >= 0));
      box.appendChild(chip);
    });
  }

  $("chips").addEventListener("click", function (event) {
    var chip = event.target.closest(".chip");
    if (!chip) { return; }
    var code = chip.dataset.code;
    var at = state.amenities.indexOf(code);
    if (at >= 0) { state.amenities.splice(at, 1); } else { state.amenities.push(code); }
    chip.setAttribute("aria-pressed", String(at < 0));
    search();
  });

  $("show-closed").addEventListener("change", function (event) {
    state.showClosed = event.target.checked;
    search();
  });

  /* ---------- the map (Leaflet, served by this site; optional) ---------- */

  var map = null, tiles = null, stationLayer = null, youMarker = null;

  /* Tiles are fetched only once there is something to show, to spare a weak connection. */
  function setUpMap() {
    if (!window.L) { $("map").hidden = true; return; }
    map = L.map("map", { zoomControl: true, attributionControl: true }).setView([35.0, 105.0], 4);
    map.attributionControl.setPrefix("Leaflet");
    tiles = L.tileLayer(TILE_URL, { maxZoom: 19, attribution: "© OpenStreetMap" });
    stationLayer = L.layerGroup().addTo(map);
    map.on("click", function (event) {
      setPosition(event.latlng.lng, event.latlng.lat);
    });
  }

  function showTiles() {
    if (map && !map.hasLayer(tiles)) { tiles.addTo(map); }
  }

  function drawMap() {
    if (!map) { return; }
    stationLayer.clearLayers();
    var points = [];
    if (state.position) {
      var here = [state.position.lat, state.position.lon];
      points.push(here);
      if (youMarker) { youMarker.setLatLng(here); } else {
        youMarker = L.circleMarker(here, {
          radius: 9, color: "#fff", weight: 3, fillColor: "#0043ce", fillOpacity: 1,
          className: "you-are-here"
        }).addTo(map);
      }
      youMarker.unbindTooltip().bindTooltip(el("span", null, t("you")));
    }
    var shown = listed();
    var nearest = shown.length ? shown[0].properties.distance_m : 0;
    var framedLimit = Math.max(FRAMED_MIN_M, FRAMED_DISTANCE_FACTOR * nearest);
    shown.forEach(function (feature, index) {
      var lonLat = feature.geometry.coordinates;
      var latLng = [lonLat[1], lonLat[0]];
      if (index === 0 || (index < FRAMED_STATIONS && feature.properties.distance_m <= framedLimit)) {
        points.push(latLng);
      }
      var marker = L.marker(latLng, {
        icon: L.divIcon({ className: "rank-marker", html: el("span", null, index + 1), iconSize: [28, 28] }),
        keyboard: false
      });
      var label = el("span", null, (index + 1) + ". " + feature.properties.name);
      marker.bindTooltip(label, { direction: "top" });
      marker.on("click", function () { selectStation(feature.id, true); });
      stationLayer.addLayer(marker);
    });
    if (points.length) { showTiles(); }
    // No animation: a weak phone would fetch tiles for every step of it.
    if (points.length === 1) {
      map.setView(points[0], 14, { animate: false });
    } else if (points.length > 1) {
      map.fitBounds(points, { padding: [24, 24], maxZoom: 16, animate: false });
    }
  }

  /* ---------- where the rider is ---------- */

  function locate() {
    if (!window.isSecureContext) { showFallback("insecure"); return; }
    if (!navigator.geolocation) { showFallback("unsupported"); return; }
    $("summary").textContent = t("locating");
    navigator.geolocation.getCurrentPosition(
      function (found) {
        hideNotice();
        setPosition(found.coords.longitude, found.coords.latitude);
      },
      function (error) {
        $("summary").textContent = "";
        showFallback(error.code === 1 ? "denied" : "unavailable");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  /* No position from the browser: say why, and offer the map and the coordinate form. */
  function showFallback(reason) {
    showNotice([reason, "fallback"]);
    $("manual").open = true;
    showTiles();
  }

  function setPosition(lon, lat) {
    state.position = { lon: lon, lat: lat };
    $("lon").value = lon.toFixed(6);
    $("lat").value = lat.toFixed(6);
    $("crs").value = "wgs84";
    search();
  }

  $("locate").addEventListener("click", locate);

  $("coords").addEventListener("submit", function (event) {
    event.preventDefault();
    var lon = Number($("lon").value.trim()), lat = Number($("lat").value.trim());
    if (!$("lon").value.trim() || !$("lat").value.trim() || !isFinite(lon) || !isFinite(lat)
        || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      showNotice(["badCoords"]);
      return;
    }
    hideNotice();
    var wgs = toWgs84(lon, lat, $("crs").value);
    setPosition(wgs[0], wgs[1]);
  });

  /* ---------- asking the API ---------- */

  function search() {
    if (!state.position) { return; }
    var params = new URLSearchParams({
      lon: state.position.lon.toFixed(6), lat: state.position.lat.toFixed(6), k: String(LIST_SIZE),
      radius_m: String(vocabulary.reach_m)
    });
    state.amenities.forEach(function (code) { params.append("amenity", code); });
    if (!state.showClosed) { params.set("open_state", "open,unknown"); }
    if (vocabulary.by_road) { params.set("by", "road"); }
    if (state.request) { state.request.abort(); }
    var request = new AbortController();
    state.request = request;
    $("summary").textContent = t("loading");
    $("list").setAttribute("aria-busy", "true");
    fetch("nearest?" + params.toString(), { signal: request.signal, headers: { Accept: "application/geo+json, application/json" } })
      .then(readJson)
      .then(function (answer) {
        if (state.request !== request) { return; }
        state.features = answer.features || [];
        state.beyond = answer.nearestBeyondReach || null;
        state.distanceBasis = answer.distance_basis || "straight";
        state.request = null;
        renderList();
        drawMap();
      })
      .catch(function (error) {
        if (error.name === "AbortError") { return; }
        state.request = null;
        $("list").removeAttribute("aria-busy");
        $("summary").textContent = error.status ? t("failed", { msg: error.message }) : t("offline");
      });
  }

  function readJson(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      if (response.ok) { return body; }
      var error = new Error(describeError(body, response.status));
      error.status = response.status;
      error.body = body;
      throw error;
    });
  }

  function describeError(body, status) {
    var detail = body && body.detail;
    if (Array.isArray(detail)) {
      return detail.map(function (item) {
        return (item.loc || []).slice(1).join(".") + ": " + item.msg;
      }).join("; ");
    }
    return typeof detail === "string" ? detail : "HTTP " + status;
  }

  /* ---------- the station list ---------- */

  function formatDistance(metres) {
    if (metres < 1000) { return Math.round(metres) + " m"; }
    return (metres / 1000).toFixed(metres < 10000 ? 1 : 0) + " km";
  }

  /* The stations on the list and the map: those within reach, else the nearest beyond. */
  function listed() {
    return state.features.length || !state.beyond ? state.features : [state.beyond];
  }

  function renderList() {
    var list = $("list");
    list.replaceChildren();
    list.removeAttribute("aria-busy");
    if (!state.position) { return; }
    var summary = $("summary");
    summary.replaceChildren();
    if (state.features.length) {
      summary.textContent = t("found", { n: state.features.length, km: REACH_KM });
    } else {
      var none = state.amenities.length ? "noneMatching" : state.showClosed ? "noneInReach" : "noneOpenInReach";
      summary.appendChild(el("span", null, t(none, { km: REACH_KM })));
      if (state.beyond) {
        summary.appendChild(el("span", "beyond", t("beyond", { d: formatDistance(state.beyond.properties.distance_m) })));
      } else if (state.amenities.length) {
        summary.replaceChildren(t("nowhere"));
      }
    }
    listed().forEach(function (feature, index) {
      list.appendChild(stationCard(feature, index));
    });
  }

  function stationCard(feature, index) {
    var p = feature.properties;
    var card = el("li", "station");
    card.dataset.id = feature.id;
    if (feature.id === state.selectedId) { card.classList.add("selected"); }

    var head = el("div", "station-head");
    head.appendChild(el("span", "rank", index + 1));
    head.appendChild(el("h2", null, p.name));
    head.appendChild(el("span", "distance", formatDistance(p.distance_m)));
    card.appendChild(head);
    if (p.name_en) { card.appendChild(el("p", "name-en", p.name_en)); }

    if (p.ebike_min <= LONGEST_RIDE_MIN) {
      var times = el("p", "times");
      if (p.walk_min <= LONGEST_WALK_MIN) {
        times.appendChild(el("span", "walk", t("walk", { n: p.walk_min })));
        times.appendChild(document.createTextNode(" · "));
      }
      times.appendChild(el("span", "ride", t("ride", { n: p.ebike_min })));
      var basis = p.distance_basis || state.distanceBasis;
      times.appendChild(el("span", "basis", t(basis === "road" ? "byRoad" : "straight")));
      card.appendChild(times);
    }

    var hours = el("p", "hours");
    hours.appendChild(openState(p));
    // Unknown hours are said by the state already, unless the office wrote hours that a person
    // can read but a program could not (then they come as recorded).
    var words = state.lang === "zh" ? p.hours_zh : p.hours_en;
    var recordedOnly = !p.opening_hours && p.opening_hours_text;
    if (words && (p.open_state !== "unknown" || recordedOnly)) {
      hours.appendChild(document.createTextNode(" · " + words));
    }
    card.appendChild(hours);
    if (p.address) { card.appendChild(el("p", "address", p.address)); }

    var amenities = el("ul", "amenities");
    (p.amenities || []).forEach(function (amenity) {
      var item = el("li", null, amenity.icon + " " + amenityLabel(amenity));
      item.title = amenity.label_zh + " / " + amenity.label_en;
      amenities.appendChild(item);
    });
    card.appendChild(amenities);
    card.appendChild(stationActions(feature));
    card.addEventListener("click", function (event) {
      if (!event.target.closest("a, button")) { selectStation(feature.id, false); }
    });
    return card;
  }

  function openState(p) {
    if (p.status === "closed") { return el("span", "state-closed", t("statusClosed")); }
    if (p.status === "temporarily_closed") { return el("span", "state-closed", t("statusPaused")); }
    if (p.open_state === "open") { return el("span", "state-open", t("openState")); }
    if (p.open_state === "closed") { return el("span", "state-closed", t("closedState")); }
    return el("span", "state-unknown", t(firstPhone(p) ? "callFirst" : "unknownState"));
  }

  function firstPhone(p) {
    return String(p.phone || "").split(/[\/;,，、\s]+/)[0].replace(/[^0-9+\-]/g, "");
  }

  function stationActions(feature) {
    var p = feature.properties;
    var lonLat = feature.geometry.coordinates;
    var actions = el("div", "actions");
    var name = String(p.name).replace(/[|,]/g, " ");

    var gcj = wgs84ToGcj02(lonLat[0], lonLat[1]);
    var amap = el("a", "amap", t("amap"));
    amap.href = "https://uri.amap.com/navigation?" + new URLSearchParams({
      to: gcj[0].toFixed(6) + "," + gcj[1].toFixed(6) + "," + name,
      mode: "ride", coordinate: "gaode", callnative: "1", src: "gonghui-yizhan"
    }).toString();
    amap.dataset.lonLat = gcj[0].toFixed(6) + "," + gcj[1].toFixed(6);
    actions.appendChild(amap);

    var bd = wgs84ToBd09(lonLat[0], lonLat[1]);
    var baidu = el("a", "baidu", t("baidu"));
    var baiduParams = {
      destination: "latlng:" + bd[1].toFixed(6) + "," + bd[0].toFixed(6) + "|name:" + name,
      mode: "riding", coord_type: "bd09ll", output: "html", src: "webapp.gonghui.yizhan"
    };
    if (state.position) {
      var from = wgs84ToBd09(state.position.lon, state.position.lat);
      baiduParams.origin = "latlng:" + from[1].toFixed(6) + "," + from[0].toFixed(6) + "|name:" + t("you");
    }
    if (p.city) { baiduParams.region = p.city; }
    baidu.href = "https://api.map.baidu.com/direction?" + new URLSearchParams(baiduParams).toString();
    baidu.dataset.lonLat = bd[0].toFixed(6) + "," + bd[1].toFixed(6);
    actions.appendChild(baidu);
    [amap, baidu].forEach(function (link) { link.target = "_blank"; link.rel = "noopener noreferrer"; });

    var phone = firstPhone(p);
    if (phone) {
      var call = el("a", "tel", t("call"));
      call.href = "tel:" + phone;
      actions.appendChild(call);
    }
    var report = el("button", "report", t("report"));
    report.type = "button";
    report.addEventListener("click", function () { openReport(feature); });
    actions.appendChild(report);
    return actions;
  }

  function selectStation(id, scroll) {
    state.selectedId = id;
    document.querySelectorAll(".station").forEach(function (card) {
      card.classList.toggle("selected", card.dataset.id === id);
      if (scroll && card.dataset.id === id) { card.scrollIntoView({ behavior: "smooth", block: "center" }); }
    });
  }

  /* ---------- problem reports: choose a kind, confirm ---------- */

  function renderKinds() {
    var box = $("report-kinds");
    box.replaceChildren();
    vocabulary.report_kinds.forEach(function (kind) {
      var button = el("button", null, state.lang === "zh" ? kind.label_zh : kind.label_en);
      button.type = "button";
      button.dataset.kind = kind.code;
      button.setAttribute("aria-pressed", String(state.reportKind === kind.code));
      box.appendChild(button);
    });
  }

  function openReport(feature) {
    state.reportStation = feature;
    state.reportKind = null;
    $("report-station").textContent = feature.properties.name;
    $("report-note").value = "";
    $("report-send").disabled = true;
    renderKinds();
    $("report").showModal();
  }

  $("report-kinds").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    state.reportKind = button.dataset.kind;
    $("report-kinds").querySelectorAll("button").forEach(function (other) {
      other.setAttribute("aria-pressed", String(other === button));
    });
    $("report-send").disabled = false;
  });

  $("report-cancel").addEventListener("click", function () { $("report").close(); });

  $("report-send").addEventListener("click", function () {
    var feature = state.reportStation;
    if (!feature || !state.reportKind) { return; }
    $("report-send").disabled = true;
    fetch("stations/" + encodeURIComponent(feature.id) + "/reports", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ kind: state.reportKind, note: $("report-note").value.slice(0, 280) })
    })
      .then(readJson)
      .then(function () {
        $("report").close();
        toast(t("thanks"));
      })
      .catch(function (error) {
        $("report-send").disabled = false;
        if (error.status === 429) {
          toast(t("tooMany", { n: (error.body && error.body.retry_after_s) || 600 }));
        } else if (error.status === 404) {
          toast(t("gone"));
        } else {
          toast(error.status ? t("failed", { msg: error.message }) : t("offline"));
        }
      });
  });

  /* ---------- start ---------- */

  $("lang").addEventListener("click", function () {
    state.lang = state.lang === "zh" ? "en" : "zh";
    try { localStorage.setItem("lang", state.lang); } catch (e) { /* private mode: keep it for this visit */ }
    applyLanguage();
    drawMap();
  });

  setUpMap();
  applyLanguage();
  locate();
})();
