/* needsmap: draws the ward map from the page's JSON data with plain Leaflet.
 *
 * Safety: every string from the data (ward, service and site names, labels) is shown
 * with textContent or escaped with esc() where Leaflet wants HTML (layer names,
 * attribution). Icons are built only from fixed shapes and validated colours.
 */
(function () {
  "use strict";
  var needsmap = {};

  var SHAPES = {
    circle: "<circle cx='8' cy='8' r='6'/>",
    square: "<rect x='2.5' y='2.5' width='11' height='11'/>",
    diamond: "<path d='M8 1 15 8 8 15 1 8Z'/>",
    triangle: "<path d='M8 1.5 15 14H1Z'/>",
    hexagon: "<path d='M4.5 2h7L15 8l-3.5 6h-7L1 8Z'/>",
    pentagon: "<path d='M8 1.5 15 6.6 12.3 14.5H3.7L1 6.6Z'/>",
    down: "<path d='M8 14.5 15 2H1Z'/>",
    cross: "<path d='M4 1.5 8 5.5 12 1.5 14.5 4 10.5 8 14.5 12 12 14.5 8 10.5 4 14.5 1.5 12 5.5 8 1.5 4Z'/>",
    star: "<path d='M8 1l2 4.6 5 .5-3.8 3.3 1.1 4.9L8 11.8l-4.3 2.5 1.1-4.9L1 6.1l5-.5Z'/>"
  };
  var ICONS = {
    fit: "<svg viewBox='0 0 16 16' width='16' height='16' aria-hidden='true'>" +
      "<path d='M8 2 2 7.5h2V14h3v-4h2v4h3V7.5h2Z' fill='currentColor'/></svg>",
    fullscreen: "<svg viewBox='0 0 16 16' width='16' height='16' aria-hidden='true'>" +
      "<path d='M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4' fill='none' " +
      "stroke='currentColor' stroke-width='2'/></svg>",
    table: "<svg viewBox='0 0 16 16' width='16' height='16' aria-hidden='true'>" +
      "<path d='M2 3h12v10H2ZM2 6.3h12M2 9.7h12M6 3v10' fill='none' " +
      "stroke='currentColor' stroke-width='1.5'/></svg>"
  };

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  function colour(value) {
    return /^#[0-9a-fA-F]{6}$/.test(value) ? value : "#808080";
  }

  function el(tag, className, text, parent) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  /* An SVG marker of a fixed shape; the only data in it is a validated colour. */
  function shapeSvg(shape, fill, size) {
    var body = SHAPES[shape] || SHAPES.circle;
    return "<svg viewBox='0 0 16 16' width='" + size + "' height='" + size + "'>" +
      "<g fill='" + colour(fill) + "' stroke='#ffffff' stroke-width='1.4'>" + body + "</g></svg>";
  }

  /* [[ring, ...], ...] of delta-encoded integers -> Leaflet lat/lng arrays. */
  function decodeShape(polygons, scale) {
    return polygons.map(function (rings) {
      return rings.map(function (ring) {
        var out = [], lat = 0, lon = 0;
        for (var i = 0; i < ring.length; i += 2) {
          lat += ring[i];
          lon += ring[i + 1];
          out.push([lat / scale, lon / scale]);
        }
        return out;
      });
    });
  }

  /* The ward profile as DOM: name, code and rank, then tables of label/value rows.
     Compact (the hover tooltip): the first section only, so it fits beside the pointer;
     the full profile opens on click and from the ward search. */
  function profile(data, i, compact) {
    var box = el("div", "needsmap-tip needsmap-profile");
    el("h3", "", data.wards.names[i], box);
    el("div", "sub", data.profile.sub[i], box);
    var sections = compact ? data.profile.sections.slice(0, 1) : data.profile.sections;
    sections.forEach(function (section) {
      if (section.title) { el("div", "section", section.title, box); }
      var table = el("table", "", null, box);
      if (section.head) {
        var head = el("tr", "head", null, table);
        section.head.forEach(function (h, j) {
          el("th", j ? "num" : "", h, head).setAttribute("scope", "col");
        });
      }
      var rows = compact ? section.rows.slice(0, 4) : section.rows;
      rows.forEach(function (row) {
        var tr = el("tr", "", null, table);
        el("th", "", row.label, tr).setAttribute("scope", "row");
        el("td", "num", row.values[i], tr);
        (row.extra || []).forEach(function (x) { el("td", "num", x, tr); });
      });
      var marked = section.rows.some(function (row) { return row.values[i].indexOf("†") >= 0; });
      if (section.dagger && marked) { el("div", "note", section.dagger, box); }
      if (section.note) { el("div", "note", section.note, box); }
    });
    if (compact) { el("div", "note", "Click the ward for its full profile.", box); }
    return box;
  }

  /* Phones and narrow windows: the layer list folds away, the profile sits at the foot. */
  function isCompact() {
    return window.matchMedia("(max-width: 640px)").matches;
  }

  /* Where the open layer list would cover much of the map (a phone, a notebook's inline
     frame, a small window), it folds behind a "Layers" button. */
  function foldsLayers() {
    return window.matchMedia("(max-width: 999px), (max-height: 650px)").matches;
  }

  /* The full profile opens in its own panel, above every control and never wider than
     the screen: at the side on a desktop, along the bottom on a phone. */
  function profilePanel() {
    var panel = el("div", "needsmap-profile-panel");
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Ward profile");
    var close = el("button", "close", "Close", panel);
    close.type = "button";
    close.setAttribute("aria-label", "Close the ward profile");
    el("div", "body", null, panel);
    return panel;
  }

  function openProfile(panel, data, i) {
    var body = panel.querySelector(".body");
    body.textContent = "";
    var box = profile(data, i, false);
    box.querySelector("h3").tabIndex = -1;
    body.appendChild(box);
    panel.hidden = false;
    panel.setAttribute("data-ward", data.wards.codes[i]);
    box.querySelector("h3").focus({ preventScroll: true });
  }

  /* A legend block; a marker layer's block is its one row, without a heading that
     would only repeat it. */
  function legendBlock(container, title) {
    var block = el("div", "needsmap-legend-block", null, container);
    block.style.display = "none";
    if (title) { el("h2", "", title, block); }
    return block;
  }

  function swatchRow(block, fill, label, shape) {
    var row = el("div", "row", null, block);
    if (shape) {
      var mark = el("span", "mark", null, row);
      mark.innerHTML = shapeSvg(shape, fill, 14);
    } else {
      var box = el("i", "", null, row);
      box.style.background = colour(fill);
    }
    el("span", "", label, row);
    return row;
  }

  /* Show a legend block exactly while its layer is on the map. */
  function tieLegend(layer, block) {
    layer.on("add", function () { block.style.display = ""; });
    layer.on("remove", function () { block.style.display = "none"; });
  }

  function serviceIcon(type) {
    return L.divIcon({
      className: "needsmap-marker",
      html: shapeSvg(type.shape, type.colour, 16),
      iconSize: [16, 16],
      iconAnchor: [8, 8],
      tooltipAnchor: [8, 0]
    });
  }

  function clusterIcon(type) {
    return function (cluster) {
      var n = cluster.getChildCount();
      var size = n < 10 ? 26 : n < 100 ? 32 : 38;
      return L.divIcon({
        className: "needsmap-cluster",
        html: "<div style='background:" + colour(type.colour) + "'><span>" + Number(n) +
          "</span></div>",
        iconSize: [size, size]
      });
    };
  }

  function serviceTooltip(data, j) {
    var s = data.services, box = el("div", "needsmap-tip");
    el("strong", "", s.name[j], box);
    el("div", "sub", s.detail[j], box);
    if (s.pilot.indexOf(j) >= 0) { el("div", "sub", "Existing pilot", box); }
    return box;
  }

  function siteIcon(site, fill) {
    var node = el("div", "needsmap-site");
    node.style.background = colour(fill);
    node.textContent = String(site.order);
    return L.divIcon({ className: "needsmap-site-icon", html: node, iconSize: [24, 24] });
  }

  function siteTooltip(site) {
    var box = el("div", "needsmap-tip");
    el("strong", "", site.order + ". " + site.name, box);
    site.lines.forEach(function (line) { el("div", "sub", line, box); });
    return box;
  }

  function control(position, className, build) {
    var c = L.control({ position: position });
    c.onAdd = function (map) {
      var box = L.DomUtil.create("div", className);
      build(box, map);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    return c;
  }

  function button(bar, title, svg, onClick) {
    var link = L.DomUtil.create("a", "needsmap-button", bar);
    link.href = "#";
    link.title = title;
    link.setAttribute("role", "button");
    link.setAttribute("aria-label", title);
    link.innerHTML = svg; /* fixed icon markup, no data */
    L.DomEvent.on(link, "click", function (e) {
      L.DomEvent.preventDefault(e);
      onClick();
    });
    return link;
  }

  /* A table of every ward: the first profile section and the caseload rows. */
  function wardTable(data) {
    var panel = el("div", "needsmap-table-panel");
    panel.id = "needsmap-table";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Table of wards");
    var h = el("h2", "", "Table of wards", panel);
    h.tabIndex = -1;
    var close = el("button", "close", "Close table", panel);
    close.type = "button";
    var table = el("table", "", null, panel);
    el("caption", "", "Wards in order of need (1 = most need). Caseload: per 10,000 " +
      "children (number).", table);
    var rows = [];
    data.profile.sections.forEach(function (section, k) {
      if (k === 0 || section.head) { rows = rows.concat(section.rows); }
    });
    var head = el("tr", "", null, el("thead", "", null, table));
    ["Ward", "Need rank"].concat(rows.map(function (r) { return r.label; }))
      .forEach(function (label) { el("th", "", label, head).setAttribute("scope", "col"); });
    var body = el("tbody", "", null, table);
    var order = data.wards.names.map(function (name, i) { return i; });
    order.sort(function (a, b) { return data.wards.rank[a] - data.wards.rank[b]; });
    order.forEach(function (i) {
      var tr = el("tr", "", null, body);
      el("th", "", data.wards.names[i], tr).setAttribute("scope", "row");
      el("td", "num", String(data.wards.rank[i]), tr);
      rows.forEach(function (row) { el("td", "num", row.values[i], tr); });
    });
    return panel;
  }

  needsmap.build = function (map, data) {
    var scale = Math.pow(10, data.decimals);
    var names = data.wards.names, n = names.length;
    var bounds = L.latLngBounds(data.wards.bounds);
    var fitOptions = { paddingTopLeft: [10, 90], paddingBottomRight: [10, 20] };
    map.fitBounds(bounds, fitOptions);

    var panel = profilePanel(), shown = null;
    document.body.appendChild(panel);
    L.DomEvent.disableClickPropagation(panel);
    L.DomEvent.disableScrollPropagation(panel);
    function showProfile(i) {
      if (shown !== null) { polygons[shown].setStyle({ weight: base.weight, color: base.color }); }
      shown = i;
      polygons[i].setStyle({ weight: 4, color: "#000000" });
      openProfile(panel, data, i);
    }
    function hideProfile() {
      panel.hidden = true;
      if (shown !== null) { polygons[shown].setStyle({ weight: base.weight, color: base.color }); }
      shown = null;
    }
    L.DomEvent.on(panel.querySelector(".close"), "click", hideProfile);
    L.DomEvent.on(panel, "keydown", function (e) { if (e.key === "Escape") { hideProfile(); } });

    /* Wards: one polygon each, shared by every ward layer; many wards draw on canvas. */
    var renderer = n > 1500 ? L.canvas({ padding: 0.5 }) : L.svg();
    var base = { color: data.outline, weight: 1.2, opacity: 1, fillOpacity: 0.8 };
    var wards = L.featureGroup();
    var polygons = data.wards.shapes.map(function (shape, i) {
      var poly = L.polygon(decodeShape(shape, scale), L.extend({ renderer: renderer,
        smoothFactor: 0.5, fillColor: "#ffffff", fillOpacity: 0 }, base));
      poly.bindTooltip(function () { return profile(data, i, true); },
        { sticky: true, className: "needsmap-tooltip", opacity: 0.97 });
      poly.on("click", function () { poly.closeTooltip(); showProfile(i); });
      poly.on("mouseover", function () {
        poly.setStyle({ weight: 3, color: "#000000" });
        if (renderer instanceof L.SVG) { poly.bringToFront(); }
      });
      poly.on("mouseout", function () {
        if (shown !== i) { poly.setStyle({ weight: base.weight, color: base.color }); }
      });
      poly.addTo(wards);
      return poly;
    });
    wards.addTo(map);
    if (!(renderer instanceof L.Canvas)) {
      polygons.forEach(function (poly, i) {
        var path = poly.getElement();
        path.setAttribute("data-ward", data.wards.codes[i]);
        path.setAttribute("aria-label", names[i]);
      });
    }

    /* Bottom-left stacks upwards in the order added: scale bar, then the legend. */
    L.control.scale({ position: "bottomleft", imperial: true }).addTo(map);
    /* Legend: one block per layer, shown while that layer is on. */
    var legendBox;
    control("bottomleft", "needsmap-legend", function (box) {
      box.id = "needsmap-legend";
      var toggle = el("button", "needsmap-legend-toggle", "Legend", box);
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "true");
      L.DomEvent.on(toggle, "click", function () {
        var hidden = box.classList.toggle("is-hidden");
        toggle.setAttribute("aria-expanded", hidden ? "false" : "true");
      });
      legendBox = box;
    }).addTo(map);

    var baseLayers = {}, overlays = {}, initial = [], current = null;
    var Theme = L.Layer.extend({
      initialize: function (t) { this.theme = t; },
      onAdd: function () {
        var t = this.theme;
        current = this;
        polygons.forEach(function (poly, i) {
          var entry = t.legend[t.index[i]];
          poly.setStyle({ fillColor: colour(entry.colour), fillOpacity: base.fillOpacity });
        });
      },
      onRemove: function () {}
    });
    data.themes.forEach(function (t) {
      var layer = new Theme(t);
      var block = legendBlock(legendBox, t.title);
      block.setAttribute("data-layer", t.key);
      t.legend.forEach(function (entry) { swatchRow(block, entry.colour, entry.label); });
      if (t.note) {
        var more = el("details", "note", null, block);
        el("summary", "", "What this shows", more);
        el("div", "", t.note, more);
        more.open = !foldsLayers();
      }
      tieLegend(layer, block);
      baseLayers[esc(t.title)] = layer;
      if (t.key === "need_index") { initial.push(layer); }
    });
    var Outlines = L.Layer.extend({
      onAdd: function () {
        current = null;
        polygons.forEach(function (poly) { poly.setStyle({ fillOpacity: 0 }); });
      },
      onRemove: function () {}
    });
    baseLayers["Ward outlines only"] = new Outlines();
    if (!initial.length && data.themes.length) {
      initial.push(baseLayers[esc(data.themes[0].title)]);
    }

    /* Background tiles: optional, need internet; without them the page is unchanged. */
    var tiles = L.tileLayer(data.tiles.url, { attribution: esc(data.tiles.attribution),
      maxZoom: 19 });
    overlays[esc(data.tiles.title)] = tiles;
    /* Over a background, wards are more see-through so streets show. */
    tiles.on("add remove", function (e) {
      base.fillOpacity = e.type === "add" ? 0.55 : 0.8;
      if (current) { current.onAdd(); }
    });
    if (data.tiles.on) { initial.push(tiles); }

    /* Services: one clustered layer per type, each with its own shape and colour. */
    var s = data.services;
    var icons = s.types.map(serviceIcon);
    var groups = s.types.map(function (type) {
      return L.markerClusterGroup({
        disableClusteringAtZoom: 14,
        showCoverageOnHover: false,
        maxClusterRadius: 40,
        iconCreateFunction: clusterIcon(type)
      });
    });
    s.name.forEach(function (name, j) {
      var marker = L.marker([s.lat[j], s.lon[j]], { icon: icons[s.type[j]], keyboard: false });
      marker.bindTooltip(function () { return serviceTooltip(data, j); });
      groups[s.type[j]].addLayer(marker);
    });
    s.types.forEach(function (type, k) {
      overlays[shapeSvg(type.shape, type.colour, 13) + " " + esc(type.label)] = groups[k];
      var block = legendBlock(legendBox, null);
      block.setAttribute("data-layer", "services:" + type.key);
      swatchRow(block, type.colour, type.label, type.shape);
      tieLegend(groups[k], block);
      /* Existing provision (family hubs, children's centres) shows from the start. */
      if (s.on.indexOf(type.key) >= 0) { initial.push(groups[k]); }
    });

    /* Existing pilots (the config's pilots and services marked pilot = yes), drawn as
       stars on top, shown from the start. */
    if (s.pilot.length) {
      var pilotIcon = L.divIcon({ className: "needsmap-marker",
        html: shapeSvg("star", data.pilotColour, 20), iconSize: [20, 20] });
      var pilots = L.featureGroup();
      s.pilot.forEach(function (j) {
        L.marker([s.lat[j], s.lon[j]], { icon: pilotIcon, zIndexOffset: 500, keyboard: false })
          .bindTooltip(function () { return serviceTooltip(data, j); })
          .addTo(pilots);
      });
      overlays[shapeSvg("star", data.pilotColour, 13) + " " + esc(s.pilotLabel)] = pilots;
      var pilotBlock = legendBlock(legendBox, null);
      pilotBlock.setAttribute("data-layer", "pilots");
      swatchRow(pilotBlock, data.pilotColour, s.pilotLabel, "star");
      tieLegend(pilots, pilotBlock);
      initial.push(pilots);
    }

    /* Recommended sites: numbered in the order they were chosen. */
    if (data.sites.length) {
      var sites = L.featureGroup();
      data.sites.forEach(function (site) {
        L.marker([site.lat, site.lon], { icon: siteIcon(site, data.siteColour),
          zIndexOffset: 1000, keyboard: false })
          .bindTooltip(function () { return siteTooltip(site); })
          .addTo(sites);
      });
      overlays["<span class='needsmap-site-key' style='background:" +
        colour(data.siteColour) + "'>1</span> Recommended sites (" + data.sites.length +
        ")"] = sites;
      var siteBlock = legendBlock(legendBox, null);
      siteBlock.setAttribute("data-layer", "sites");
      var row = el("div", "row", null, siteBlock);
      var key = el("span", "needsmap-site-key", "1", row);
      key.style.background = colour(data.siteColour);
      el("span", "", "Recommended sites, numbered in the order chosen", row);
      tieLegend(sites, siteBlock);
    }

    /* Every ward's figures as a table: for keyboard and screen-reader users, and for
       anyone who would rather read than hover. */
    var tablePanel = wardTable(data);
    document.body.appendChild(tablePanel);
    var opener = null;
    function showTable(from) {
      opener = from || null;
      tablePanel.hidden = false;
      tablePanel.querySelector("h2").focus();
    }
    function hideTable() {
      tablePanel.hidden = true;
      if (opener) { opener.focus(); }
    }
    L.DomEvent.on(tablePanel.querySelector(".close"), "click", hideTable);
    L.DomEvent.on(tablePanel, "keydown", function (e) { if (e.key === "Escape") { hideTable(); } });
    var skip = el("a", "needsmap-skip", "Skip to the table of wards");
    skip.href = "#needsmap-table";
    L.DomEvent.on(skip, "click", function (e) { L.DomEvent.preventDefault(e); showTable(skip); });
    document.body.insertBefore(skip, document.body.firstChild);
    map.getContainer().setAttribute("aria-label",
      "Map of " + n + " wards. The table of wards gives the same figures.");

    /* Controls: layers (top right), fit and full screen, ward search, scale. */
    var layerControl = L.control.layers(baseLayers, overlays,
      { collapsed: foldsLayers(), position: "topright" }).addTo(map);
    var toggle = layerControl.getContainer().querySelector(".leaflet-control-layers-toggle");
    if (toggle) {
      toggle.classList.add("needsmap-layers-toggle");
      toggle.textContent = "Layers";
      toggle.setAttribute("aria-label", "Choose what the map shows");
    }
    /* Where it folds, choosing how to colour the wards folds the list so the map shows. */
    map.on("baselayerchange", function () { if (foldsLayers()) { layerControl.collapse(); } });
    control("topleft", "leaflet-bar needsmap-tools", function (bar) {
      button(bar, "Zoom to the whole area", ICONS.fit, function () {
        map.fitBounds(bounds, fitOptions);
      });
      button(bar, "Full screen", ICONS.fullscreen, function () {
        var page = document.documentElement;
        if (document.fullscreenElement) {
          document.exitFullscreen();
        } else if (page.requestFullscreen) {
          page.requestFullscreen();
        }
      });
      var link = button(bar, "Table of wards", ICONS.table, function () { showTable(link); });
    }).addTo(map);
    document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });

    control("topleft", "needsmap-search leaflet-bar", function (box) {
      var select = L.DomUtil.create("select", "", box);
      select.setAttribute("aria-label", "Find a ward");
      el("option", "", "Find a ward…", select).value = "";
      var order = names.map(function (name, i) { return i; });
      order.sort(function (a, b) { return names[a].localeCompare(names[b]); });
      order.forEach(function (i) { el("option", "", names[i], select).value = String(i); });
      L.DomEvent.on(select, "change", function () {
        if (select.value === "") { return; }
        var poly = polygons[Number(select.value)];
        var i = Number(select.value);
        showProfile(i);
        /* Zoom to the ward in the part of the map the profile leaves clear. */
        var clear = isCompact() ? [10, panel.offsetHeight + 10] : [panel.offsetWidth + 20, 20];
        map.fitBounds(poly.getBounds(),
          { maxZoom: 14, paddingTopLeft: [10, 90], paddingBottomRight: clear });
      });
    }).addTo(map);

    if (map.attributionControl) {
      map.attributionControl.setPrefix(false);
      // One entry: Leaflet joins entries with ", ", which after a full stop reads "2025., Contains".
      map.attributionControl.addAttribution(esc(data.attribution.join(" ")));
    }
    initial.forEach(function (layer) { layer.addTo(map); });
  };

  window.needsmap = needsmap;
})();
