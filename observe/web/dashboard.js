// The troupe dashboard: polls metrics.json (the System's snapshot, docs/observe.md) every second
// and shows what the system is doing. Every count in the snapshot runs from the start, so rates
// and utilisation are the differences between two polls over the time between them. The charts
// keep the last five minutes. window.troupeDashboard exposes the page's state (how many polls
// succeeded, the points in the charts), for tests and the curious.
(() => {
  "use strict";

  const POLL_MS = 1000;
  const WINDOW_SECONDS = 300;
  const TYPES_CHARTED = 8;
  const TYPES_LISTED = 15;
  const COLOURS = ["#3b6fd8", "#e0782f", "#2f9e62", "#c0392b", "#8e5bd0", "#1aa3a3", "#b8a200", "#d04e9c",
                   "#5a6b82", "#7f4f24"];

  const state = {
    polls: 0,          // successful polls
    failures: 0,       // polls that failed
    previous: null,    // the last snapshot
    history: [],       // [{t, utilisation: {worker: %}, rates: {type: msgs/s}}], the last WINDOW_SECONDS
    charts: {},        // id -> {plot, keys}
    chartPoints: 0,    // points in the charts now
  };
  window.troupeDashboard = state;

  // --- Formatting ---------------------------------------------------------------------------------

  const integer = new Intl.NumberFormat("en-US", {maximumFractionDigits: 0});
  const decimal = new Intl.NumberFormat("en-US", {maximumFractionDigits: 1});

  function count(n) { return integer.format(n); }

  function perSecond(n) { return n >= 100 ? integer.format(n) : decimal.format(n); }

  function bytesPerSecond(n) {
    const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
    let unit = 0;
    while (n >= 1024 && unit < units.length - 1) {
      n /= 1024;
      ++unit;
    }
    return decimal.format(n) + " " + units[unit];
  }

  function duration(seconds) {
    if (seconds < 1e-3) return decimal.format(seconds * 1e6) + " µs";
    if (seconds < 1) return decimal.format(seconds * 1e3) + " ms";
    if (seconds < 120) return decimal.format(seconds) + " s";
    const s = Math.floor(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return (h > 0 ? h + "h " : "") + m + "m " + (s % 60) + "s";
  }

  // The bucket bound under which half the timed messages fall ("≤ 16 µs"), from the histogram's
  // per-bucket counts.
  function median(handling, bounds) {
    if (!handling || handling.count === 0) return "–";
    let seen = 0;
    for (let i = 0; i < handling.counts.length; ++i) {
      seen += handling.counts[i];
      if (seen * 2 >= handling.count) return i < bounds.length ? "≤ " + duration(bounds[i]) : "> " + duration(bounds[bounds.length - 1]);
    }
    return "–";
  }

  // --- The DOM ------------------------------------------------------------------------------------

  function setText(id, text) { document.getElementById(id).textContent = text; }

  function cell(row, text, field, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (field) td.dataset.field = field;
    if (className) td.className = className;
    return td;
  }

  function fillTable(id, items, columns, emptyText, key) {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren();
    if (items.length === 0) {
      const td = body.insertRow().insertCell();
      td.colSpan = columns;
      td.className = "empty";
      td.textContent = emptyText;
      return [];
    }
    return items.map((item) => {
      const row = body.insertRow();
      if (key) row.dataset[key.name] = key.of(item);
      return row;
    });
  }

  // --- Charts -------------------------------------------------------------------------------------

  // A line chart of `keys` (series names) over the history; made again when the keys change.
  function drawChart(id, keys, label, valueOf, yRange) {
    const element = document.getElementById(id);
    const data = [state.history.map((h) => h.t)];
    for (const key of keys) data.push(state.history.map((h) => valueOf(h, key) ?? null));
    let chart = state.charts[id];
    if (chart && chart.keys.join("\u0000") !== keys.join("\u0000")) {
      chart.plot.destroy();
      chart = undefined;
    }
    if (!chart) {
      const options = {
        width: Math.max(300, element.clientWidth),
        height: 230,
        legend: {live: true},
        cursor: {drag: {x: false, y: false}},
        scales: {x: {time: true}, y: yRange ? {range: yRange} : {range: (u, min, max) => [0, Math.max(1, max * 1.1)]}},
        axes: [{}, {label: label, size: 84}],
        series: [{}].concat(keys.map((key, i) => ({
          label: key,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          spanGaps: false,
          points: {show: false},
        }))),
      };
      chart = {plot: new uPlot(options, data, element), keys: keys.slice()};
      state.charts[id] = chart;
    } else {
      chart.plot.setData(data);
    }
  }

  window.addEventListener("resize", () => {
    for (const [id, chart] of Object.entries(state.charts)) {
      chart.plot.setSize({width: Math.max(300, document.getElementById(id).clientWidth), height: 230});
    }
  });

  // --- One poll -----------------------------------------------------------------------------------

  function workerName(w) { return "worker " + w.index + (w.compensating ? " (compensating)" : ""); }

  function render(snapshot) {
    const before = state.previous;
    const dt = before ? snapshot.taken - before.taken : 0;
    const earlier = (list, match) => (before ? before[list].find(match) : undefined);

    // Rates since the last poll.
    const utilisation = {};
    for (const w of snapshot.workers) {
      const was = earlier("workers", (x) => x.index === w.index && x.compensating === w.compensating);
      if (!was) continue;
      const busy = w.busy_seconds - was.busy_seconds;
      const all = busy + (w.parked_seconds - was.parked_seconds) + (w.spinning_seconds - was.spinning_seconds);
      if (all > 0) utilisation[workerName(w)] = Math.min(100, Math.max(0, (100 * busy) / all));
    }
    const rates = {};
    let totalRate = 0;
    for (const t of snapshot.actor_types) {
      const was = earlier("actor_types", (x) => x.type === t.type);
      if (dt > 0) {
        rates[t.type] = Math.max(0, (t.messages - (was ? was.messages : 0)) / dt);
        totalRate += rates[t.type];
      }
    }
    if (dt > 0) {
      state.history.push({t: snapshot.taken, utilisation, rates});
      while (state.history.length > 0 && state.history[0].t < snapshot.taken - WINDOW_SECONDS) state.history.shift();
    }

    // The figures at the top.
    let deadLetters = 0;
    for (const n of Object.values(snapshot.dead_letters)) deadLetters += n;
    setText("uptime", duration(snapshot.uptime_seconds));
    setText("workers", count(snapshot.workers.length));
    setText("live-actors", count(snapshot.live_actors));
    setText("message-rate", dt > 0 ? perSecond(totalRate) : "–");
    setText("dead-letters", count(deadLetters));
    setText("timers-pending", count(snapshot.timers_pending));
    setText("blocking-threads", count(snapshot.blocking_threads));
    setText("stuck-turns", count(snapshot.stuck_turns));

    // Charts: every worker; the types with most messages.
    const workerKeys = snapshot.workers.map(workerName);
    // Up to 100%, or to the next 10% over the busiest point, so that a light load still shows.
    const busiestPoint = Math.max(0, ...state.history.flatMap((h) => Object.values(h.utilisation)));
    drawChart("utilisation-chart", workerKeys, "% busy", (h, key) => h.utilisation[key],
              (u, min, max) => [0, Math.min(100, Math.max(10, Math.ceil(busiestPoint / 10) * 10))]);
    const busiest = snapshot.actor_types.slice().sort((a, b) => b.messages - a.messages).slice(0, TYPES_CHARTED);
    drawChart("rate-chart", busiest.map((t) => t.type), "messages/s", (h, key) => h.rates[key]);
    state.chartPoints = state.history.length;

    // Actor types, most live first.
    const types = snapshot.actor_types.slice().sort((a, b) => b.live - a.live || b.messages - a.messages)
                      .slice(0, TYPES_LISTED);
    const typeRows = fillTable("types", types, 7, "no actors yet", {name: "type", of: (t) => t.type});
    types.forEach((t, i) => {
      const row = typeRows[i];
      cell(row, t.type, "type", "name").title = t.type;
      cell(row, count(t.live), "live");
      cell(row, dt > 0 ? perSecond(rates[t.type]) : "–", "rate");
      cell(row, count(t.messages), "messages");
      cell(row, count(t.restarts), "restarts", t.restarts > 0 ? "nonzero" : "");
      cell(row, count(t.exits.error), "failed", t.exits.error > 0 ? "nonzero" : "");
      cell(row, median(t.handling_time, snapshot.handling_time_buckets), "median");
    });

    const boxRows = fillTable("mailboxes", snapshot.mailboxes, 4, "no messages waiting");
    snapshot.mailboxes.forEach((m, i) => {
      const row = boxRows[i];
      cell(row, m.type, "type", "name").title = m.type;
      cell(row, "#" + m.actor, "actor");
      cell(row, (m.at_least ? "≥ " : "") + count(m.depth), "depth");
      cell(row, duration(m.age_seconds) + " ago", "age");
    });

    const reasons = Object.keys(snapshot.dead_letters);
    const reasonRows = fillTable("dead-letter-reasons", reasons, 3, "", {name: "reason", of: (r) => r});
    reasons.forEach((reason, i) => {
      const row = reasonRows[i];
      const total = snapshot.dead_letters[reason];
      const was = before ? before.dead_letters[reason] || 0 : total;
      cell(row, reason.replaceAll("_", " "), "reason");
      cell(row, count(total), "total", total > 0 ? "nonzero" : "");
      cell(row, dt > 0 ? perSecond(Math.max(0, total - was) / dt) : "–", "rate");
    });

    // Peers, for a node.
    const peers = [];
    for (const node of snapshot.nodes) for (const peer of node.peers) peers.push({node, peer});
    document.getElementById("peers-section").hidden = snapshot.nodes.length === 0;
    const peerRows = fillTable("peers", peers, 12, "no peers yet", {name: "peer", of: (p) => p.node.name + "/" + p.peer.node});
    peers.forEach(({node, peer}, i) => {
      const row = peerRows[i];
      const oldNode = before ? before.nodes.find((n) => n.name === node.name) : undefined;
      const was = oldNode ? oldNode.peers.find((p) => p.node === peer.node) : undefined;
      const rate = (field) => (was && dt > 0 ? bytesPerSecond(Math.max(0, peer[field] - was[field]) / dt) : "–");
      cell(row, node.name, "node");
      cell(row, peer.node, "peer");
      cell(row, peer.address, "address");
      cell(row, peer.state.replaceAll("_", " "), "state", "state-" + peer.state);
      cell(row, peer.rtt_seconds > 0 ? duration(peer.rtt_seconds) : "–", "rtt");
      cell(row, rate("bytes_in"), "bytes-in");
      cell(row, rate("bytes_out"), "bytes-out");
      cell(row, count(peer.envelopes_in), "envelopes-in");
      cell(row, count(peer.envelopes_out), "envelopes-out");
      cell(row, count(peer.outbound_envelopes), "queued");
      cell(row, count(peer.credit), "credit");
      cell(row, count(peer.downs), "downs", peer.downs > 0 ? "nonzero" : "");
    });
    const refusals = [];
    for (const node of snapshot.nodes) {
      for (const [cause, n] of Object.entries(node.refusals)) refusals.push(node.name + ": " + count(n) + " " + cause);
    }
    setText("refusals", refusals.length > 0 ? "Handshakes refused — " + refusals.join(", ") : "");

    state.previous = snapshot;
  }

  async function poll() {
    try {
      const response = await fetch("metrics.json", {cache: "no-store"});
      if (!response.ok) throw new Error("HTTP " + response.status);
      render(await response.json());
      ++state.polls;
      const status = document.getElementById("status");
      status.className = "status";
      status.textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    } catch (e) {
      ++state.failures;
      const status = document.getElementById("status");
      status.className = "status error";
      status.textContent = "cannot reach the system: " + e.message;
    }
    setTimeout(poll, POLL_MS);
  }

  poll();
})();
