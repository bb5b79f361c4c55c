// LAPOR console: the live SLA alert tray on every page, and new rows on the alerts page.
// Alerts come from the console's /alerts/stream (sla's Server-Sent Events with the signed-in
// person's token); EventSource reconnects by itself and resumes from the last id it saw.
(function () {
  "use strict";
  var wordsNode = document.getElementById("console-words");
  var list = document.getElementById("live-list");
  if (!wordsNode || !list || !window.EventSource) { return; }
  var words = JSON.parse(wordsNode.textContent);
  var count = 0;

  function say(key, fallback) { return words[key] || fallback || ""; }

  function when(iso) {
    if (!iso) { return "–"; }
    try {
      return new Date(iso).toLocaleString(words._locale, { timeZone: words._zone, dateStyle: "medium",
                                                           timeStyle: "short" });
    } catch (e) { return iso; }
  }

  function cell(row, text, href) {
    var td = document.createElement("td");
    if (href) {
      var a = document.createElement("a");
      a.href = href; a.textContent = text; td.appendChild(a);
    } else { td.textContent = text; }
    row.appendChild(td);
  }

  function show(type, alert) {
    var number = String(alert.tracking_number || "");
    var link = "/complaints/" + encodeURIComponent(number);
    var what = say("alert." + type, type);
    var clock = say("clock." + alert.clock, alert.clock);
    var level = alert.level ? say("level." + alert.level, alert.level) : (alert.threshold || "");

    var empty = document.getElementById("live-empty");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.className = "alert-" + type;
    item.dataset.alertId = alert.id;
    item.dataset.trackingNumber = number;
    var a = document.createElement("a");
    a.href = link; a.textContent = "#" + number;
    item.appendChild(document.createTextNode(what + " · "));
    item.appendChild(a);
    item.appendChild(document.createTextNode(" · " + clock + (alert.opd_id ? " · " + alert.opd_id : "") +
                                             (level ? " · " + level : "")));
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 20) { list.removeChild(list.lastChild); }
    count += 1;
    document.getElementById("live-count").textContent = String(count);

    var body = document.getElementById("alerts-body");
    if (body && !body.querySelector('[data-alert-id="' + alert.id + '"]')) {
      var none = document.getElementById("alerts-none");
      if (none) { none.remove(); }
      var row = document.createElement("tr");
      row.className = "alert-" + type;
      row.dataset.alertId = alert.id;
      cell(row, what); cell(row, number, link); cell(row, clock);
      cell(row, alert.opd_id || "–"); cell(row, level || "–"); cell(row, when(alert.due_at));
      body.insertBefore(row, body.firstChild);
    }
  }

  // On the alerts page the stream starts after the newest alert listed; elsewhere the console
  // starts it after the newest alert when the page opens. Either way a reconnect (sla
  // restarting) resumes from there, so nothing fired meanwhile is missed.
  var after = document.getElementById("live-alerts").dataset.after;
  var source = new EventSource("/alerts/stream" + (after ? "?after=" + encodeURIComponent(after) : ""));
  ["warning", "breach", "escalation"].forEach(function (type) {
    source.addEventListener(type, function (event) {
      try { show(type, JSON.parse(event.data)); } catch (e) { /* a malformed event: skip it */ }
    });
  });
  document.documentElement.dataset.liveAlerts = "connecting";
  source.addEventListener("open", function () { document.documentElement.dataset.liveAlerts = "open"; });
})();
