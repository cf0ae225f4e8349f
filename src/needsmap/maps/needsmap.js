/* needsmap's own Leaflet controls: ward search and full screen. Plain DOM, no libraries. */
(function () {
  "use strict";
  var needsmap = {};

  needsmap.addWardSearch = function (map, layer) {
    var control = L.control({ position: "topleft" });
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "needsmap-search leaflet-bar");
      var select = L.DomUtil.create("select", "", box);
      select.setAttribute("aria-label", "Find a ward");
      var first = document.createElement("option");
      first.value = "";
      first.textContent = "Find a ward…";
      select.appendChild(first);
      var byName = {};
      layer.eachLayer(function (ward) {
        var name = ward.feature.properties.ward_name;
        byName[name] = ward;
      });
      Object.keys(byName).sort().forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        option.textContent = name; /* textContent: names are shown as text, never HTML */
        select.appendChild(option);
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(select, "change", function () {
        var ward = byName[select.value];
        if (!ward) { return; }
        map.fitBounds(ward.getBounds(), { maxZoom: 14 });
        /* The ward profile, already escaped in Python, shown where the ward is. */
        L.popup({ maxWidth: 340 })
          .setLatLng(ward.getBounds().getCenter())
          .setContent(ward.feature.properties.tip)
          .openOn(map);
      });
      return box;
    };
    control.addTo(map);
  };

  needsmap.addFullscreen = function (map) {
    var control = L.control({ position: "topleft" });
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "leaflet-bar needsmap-fullscreen");
      var link = L.DomUtil.create("a", "", box);
      link.href = "#";
      link.title = "Full screen";
      link.setAttribute("role", "button");
      link.textContent = "⛶";
      L.DomEvent.on(link, "click", function (e) {
        L.DomEvent.preventDefault(e);
        var el = map.getContainer();
        if (document.fullscreenElement) {
          document.exitFullscreen();
        } else if (el.requestFullscreen) {
          el.requestFullscreen();
        }
      });
      return box;
    };
    control.addTo(map);
  };

  window.needsmap = needsmap;
})();
