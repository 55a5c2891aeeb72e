/* lstmkit inspect view: the page script, written for lstmkit (no third-party code).
 * Reads the JSON in #lk-data (see lstmkit/inspect/payload.py) and draws into #lk-root
 * with plain DOM and SVG. State: sequence, layer, gate, unit A, unit B, selected span. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("lk-data").textContent);
  // trace matrices come packed (payload.pack_matrix): 16-bit levels between lo and hi, base64
  function unpack(p) {
    var bin = atob(p.q), T = p.shape[0], H = p.shape[1], scale = (p.hi - p.lo) / 65535, rows = [];
    for (var t = 0; t < T; t++) {
      var row = new Array(H);
      for (var u = 0; u < H; u++) {
        var k = 2 * (t * H + u);
        row[u] = p.lo + (bin.charCodeAt(k) | (bin.charCodeAt(k + 1) << 8)) * scale;
      }
      rows.push(row);
    }
    return rows;
  }
  D.sequences.forEach(function (q) {
    for (var key in q.traces) for (var g in q.traces[key]) q.traces[key][g] = unpack(q.traces[key][g]);
  });
  var NS = "http://www.w3.org/2000/svg";
  var root = document.getElementById("lk-root");
  var gates0 = D.meta.gates;
  var S = {seq: 0, layer: D.meta.layers[0], gate: gates0.indexOf("h") >= 0 ? "h" : gates0[0],
           a: 0, b: -1, span: null, anchor: null, dragging: false, threshold: 0.5};
  var W = 900;  // chart width in px, shared so the series and the traces line up

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function sv(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function fmt(v) { return v === null || v === undefined ? "-" : (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3)); }
  function seq() { return D.sequences[S.seq]; }
  function vals(gate) { return seq().traces[S.layer][gate || S.gate]; }           // T x H
  function col(gate, unit) { return vals(gate).map(function (r) { return r[unit]; }); }
  function nUnits(gate) { return D.meta.units[S.layer][gate || S.gate]; }
  function range(gate) {
    gate = gate || S.gate;
    if (gate === "c") {
      var m = 1e-9;
      vals("c").forEach(function (r) { r.forEach(function (v) { m = Math.max(m, Math.abs(v)); }); });
      return [-m, m];
    }
    return (gate === "g" || gate === "h" || gate === "n") ? [-1, 1] : [0, 1];
  }
  function mix(c0, c1, t) {
    return "rgb(" + [0, 1, 2].map(function (i) { return Math.round(c0[i] + (c1[i] - c0[i]) * t); }).join(",") + ")";
  }
  var WHITE = [247, 247, 247], BLUE = [33, 102, 172], RED = [178, 24, 43], DARK = [8, 48, 107];
  function colour(v, r) {
    if (v === null || v === undefined) return "#fff";
    if (r[0] < 0) {  // diverging around 0
      var t = Math.max(-1, Math.min(1, v / r[1]));
      return t < 0 ? mix(WHITE, RED, -t) : mix(WHITE, BLUE, t);
    }
    var u = Math.max(0, Math.min(1, (v - r[0]) / (r[1] - r[0])));
    return mix(WHITE, DARK, u);
  }
  function dark(v, r) { return v !== null && Math.abs(r[0] < 0 ? v / r[1] : (v - r[0]) / (r[1] - r[0])) > 0.6; }

  // ------------------------------------------------------------------ pattern search (same rule as payload.find_units)
  function findUnits(values, start, end, thr, top) {
    var T = values.length, H = values[0].length, out = [];
    var nOut = T - (end - start + 1);
    for (var u = 0; u < H; u++) {
      var inside = 0, outside = 0, mean = 0;
      for (var t = 0; t < T; t++) {
        var on = values[t][u] > thr ? 1 : 0;
        if (t >= start && t <= end) { inside += on; mean += values[t][u]; } else { outside += on; }
      }
      var n = end - start + 1;
      out.push({unit: u, match: inside / n - outside / Math.max(1, nOut), mean: mean / n});
    }
    out.sort(function (p, q) {
      var d = Math.round((q.match - p.match) * 1e12);
      return d !== 0 ? d : (q.mean - p.mean !== 0 ? q.mean - p.mean : p.unit - q.unit);
    });
    return out.slice(0, top);
  }
  window.lstmkitFindUnits = findUnits;

  // ------------------------------------------------------------------ layout
  var controls = el("div", {"class": "lk-controls"}, root);
  function select(label, id, options, value, onChange) {
    var l = el("label", {}, controls, label + " ");
    var s = el("select", {id: id}, l);
    options.forEach(function (o) { el("option", {value: o[0]}, s, o[1]); });
    s.value = String(value);
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }
  select("sequence", "lk-seq", D.sequences.map(function (q, i) { return [i, q.title]; }), 0,
         function (v) { S.seq = +v; S.span = null; drawAll(); });
  select("layer", "lk-layer", D.meta.layers.map(function (k) { return [k, k]; }), S.layer,
         function (v) { S.layer = v; drawAll(); });
  select("gate", "lk-gate", gates0.map(function (g) { return [g, g]; }), S.gate,
         function (v) { S.gate = v; drawAll(); });
  var la = el("label", {}, controls, "unit ");
  var inA = el("input", {id: "lk-unit", type: "number", min: 0, value: 0}, la);
  inA.addEventListener("change", function () { setUnit(+inA.value, "a"); });
  var lb = el("label", {}, controls, "compare with ");
  var inB = el("input", {id: "lk-unit-b", type: "number", min: -1, value: -1, title: "-1: none"}, lb);
  inB.addEventListener("change", function () { setUnit(+inB.value, "b"); });
  var status = el("div", {id: "lk-status"}, root);

  function section(title, id) {
    var s = el("section", {id: id + "-sec"}, root);
    el("h2", {}, s, title);
    return s;
  }
  var secSeq = section("Sequence", "lk-seq");
  var output = el("div", {id: "lk-output"}, secSeq);
  var tokens = el("div", {id: "lk-tokens"}, secSeq);
  var legend = el("div", {"class": "lk-legend"}, secSeq);
  var secSeries = section("Series, output and gate traces", "lk-series");
  var seriesBox = el("div", {id: "lk-series"}, secSeries);
  var secHeat = section("Units \u00d7 steps (click a row: unit A, shift-click: unit B)", "lk-heat");
  var heatInfo = el("div", {id: "lk-heat-info", "class": "lk-info"}, secHeat, "\u00a0");
  var heat = el("div", {id: "lk-heat", "class": "lk-scroll"}, secHeat);
  var secLines = section("Selected units over time; cell-state trajectories", "lk-lines");
  var lines = el("div", {id: "lk-lines"}, secLines);
  var secPat = section("Find units matching a pattern", "lk-pattern");
  el("p", {"class": "lk-hint"}, secPat, "Select a span: drag across the tokens (or click one, shift-click another). " +
     "Units are ranked by the fraction of the span above the threshold minus the fraction of the other steps above it.");
  var patRow = el("div", {"class": "lk-controls"}, secPat);
  var spanLabel = el("span", {id: "lk-span"}, patRow, "no span selected");
  var lt = el("label", {}, patRow, " threshold ");
  var thr = el("input", {id: "lk-thr", type: "number", step: "0.05", value: S.threshold}, lt);
  thr.addEventListener("change", function () { S.threshold = +thr.value; });
  var findBtn = el("button", {id: "lk-find", type: "button"}, patRow, "find units");
  var matches = el("ol", {id: "lk-matches"}, secPat);
  var secSat = section("Gate saturation (Karpathy et al. 2016): fraction of steps left- and right-saturated", "lk-sat");
  var sat = el("div", {id: "lk-sat"}, secSat);
  var secAttn = section("Attention", "lk-attn");
  var attnInfo = el("div", {id: "lk-attn-info", "class": "lk-info"}, secAttn, "hover a cell");
  var attn = el("div", {id: "lk-attn", "class": "lk-scroll"}, secAttn);

  // ------------------------------------------------------------------ tokens
  function drawTokens() {
    var q = seq(), r = range(), A = col(S.gate, S.a), B = S.b >= 0 ? col(S.gate, S.b) : null;
    var html = [];
    q.tokens.forEach(function (tok, k) {
      var style = "background:" + colour(A[k], r) + (dark(A[k], r) ? ";color:#fff" : "");
      if (B) style += ";box-shadow:inset 0 -5px 0 " + colour(B[k], r);
      var inSpan = S.span && k >= S.span[0] && k <= S.span[1];
      var tip = "step " + k + ": " + tok + "\nunit " + S.a + ": " + fmt(A[k]) +
                (B ? "\nunit " + S.b + ": " + fmt(B[k]) : "") + (q.notes ? "\n" + q.notes[k] : "");
      html.push("<span class=\"lk-tok" + (inSpan ? " lk-in-span" : "") + "\" data-step=\"" + k + "\" style=\"" +
                style + "\" title=\"" + esc(tip) + "\">" + esc(tok) + "</span>");
    });
    tokens.innerHTML = html.join("");
    output.textContent = q.output ? "output: " + q.output : "";
    legend.innerHTML = "colour: " + esc(S.gate) + " of unit " + S.a + " from " + fmt(r[0]) +
      " <span class=\"lk-grad\" style=\"background:linear-gradient(90deg," + colour(r[0], r) + "," +
      colour((r[0] + r[1]) / 2, r) + "," + colour(r[1], r) + ")\"></span> " + fmt(r[1]) +
      (B ? "; underline: unit " + S.b : "");
  }
  function stepOf(e) {
    var t = e.target.closest ? e.target.closest(".lk-tok") : null;
    return t ? +t.getAttribute("data-step") : null;
  }
  tokens.addEventListener("mousedown", function (e) {
    var k = stepOf(e);
    if (k === null) return;
    e.preventDefault();
    if (e.shiftKey && S.anchor !== null) { S.span = [Math.min(S.anchor, k), Math.max(S.anchor, k)]; }
    else { S.anchor = k; S.span = [k, k]; S.dragging = true; }
    drawSpan();
  });
  tokens.addEventListener("mouseover", function (e) {
    var k = stepOf(e);
    if (!S.dragging || k === null) return;
    S.span = [Math.min(S.anchor, k), Math.max(S.anchor, k)];
    drawSpan();
  });
  document.addEventListener("mouseup", function () { S.dragging = false; });
  function drawSpan() {
    var spans = tokens.querySelectorAll(".lk-tok");
    for (var k = 0; k < spans.length; k++) {
      spans[k].classList.toggle("lk-in-span", !!S.span && k >= S.span[0] && k <= S.span[1]);
    }
    spanLabel.textContent = S.span ? "span: steps " + S.span[0] + "\u2013" + S.span[1] : "no span selected";
  }

  // ------------------------------------------------------------------ heat map
  function drawHeat() {
    var v = vals(), T = v.length, H = v[0].length, r = range();
    var cw = Math.max(3, Math.min(16, Math.floor(W / T))), ch = Math.max(3, Math.min(12, Math.floor(320 / H)));
    var parts = ["<svg xmlns=\"" + NS + "\" id=\"lk-heat-svg\" width=\"" + (T * cw + 40) + "\" height=\"" +
                 (H * ch + 4) + "\"><g transform=\"translate(36,2)\">"];
    for (var u = 0; u < H; u++) {
      for (var t = 0; t < T; t++) {
        parts.push("<rect class=\"lk-cell\" data-unit=\"" + u + "\" data-step=\"" + t + "\" x=\"" + t * cw +
                   "\" y=\"" + u * ch + "\" width=\"" + cw + "\" height=\"" + ch + "\" fill=\"" +
                   colour(v[t][u], r) + "\"/>");
      }
    }
    parts.push("<rect id=\"lk-heat-sel\" x=\"-1\" width=\"" + (T * cw + 2) + "\" height=\"" + ch + "\"/>");
    parts.push("<rect id=\"lk-heat-sel-b\" x=\"-1\" width=\"" + (T * cw + 2) + "\" height=\"" + ch + "\"/>");
    parts.push("<text x=\"-4\" y=\"" + (ch + 2) + "\" class=\"lk-axis\" text-anchor=\"end\">0</text>");
    parts.push("<text x=\"-4\" y=\"" + H * ch + "\" class=\"lk-axis\" text-anchor=\"end\">" + (H - 1) + "</text>");
    parts.push("</g></svg>");
    heat.innerHTML = parts.join("");
    heat.setAttribute("data-ch", ch);
    moveHeatSelection();
  }
  function moveHeatSelection() {
    var ch = +heat.getAttribute("data-ch");
    var a = document.getElementById("lk-heat-sel"), b = document.getElementById("lk-heat-sel-b");
    if (!a) return;
    a.setAttribute("y", S.a * ch);
    b.setAttribute("y", S.b * ch);
    b.style.display = S.b >= 0 ? "" : "none";
  }
  heat.addEventListener("click", function (e) {
    var u = e.target.getAttribute && e.target.getAttribute("data-unit");
    if (u !== null && u !== undefined) setUnit(+u, e.shiftKey ? "b" : "a");
  });
  heat.addEventListener("mousemove", function (e) {
    var u = e.target.getAttribute && e.target.getAttribute("data-unit");
    if (u === null || u === undefined) return;
    var t = +e.target.getAttribute("data-step");
    heatInfo.textContent = "unit " + u + ", step " + t + " (" + seq().tokens[t] + "): " + S.gate + " = " + fmt(vals()[t][+u]);
  });

  // ------------------------------------------------------------------ line charts
  function chart(parent, o) {
    // o: n, height, lines [{v, color, w, op}], yr, band {low, high}, marks [{idx, color, label}], title, x
    var h = o.height || 120, left = 48, n = o.n, pw = W - left - 8;
    var svg = sv("svg", {width: W, height: h + 22, "class": "lk-chart" + (o.cls ? " " + o.cls : "")}, parent);
    var lo = o.yr ? o.yr[0] : Infinity, hi = o.yr ? o.yr[1] : -Infinity;
    if (!o.yr) {
      var all = [];
      o.lines.forEach(function (l) { all = all.concat(l.v); });
      if (o.band) all = all.concat(o.band.low, o.band.high);
      all.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
      if (!isFinite(lo)) { lo = 0; hi = 1; }
      if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    }
    function X(i) { return left + (n <= 1 ? pw / 2 : i * pw / (n - 1)); }
    function Y(v) { return 4 + (h - 8) * (1 - (v - lo) / (hi - lo)); }
    sv("line", {x1: left, x2: left, y1: 4, y2: h - 4, "class": "lk-axisline"}, svg);
    sv("text", {x: left - 4, y: 10, "class": "lk-axis", "text-anchor": "end"}, svg, fmt(hi));
    sv("text", {x: left - 4, y: h - 4, "class": "lk-axis", "text-anchor": "end"}, svg, fmt(lo));
    if (o.title) sv("text", {x: left + 4, y: 12, "class": "lk-ctitle"}, svg, o.title);
    if (o.x && n) {
      sv("text", {x: left, y: h + 14, "class": "lk-axis"}, svg, o.x[0]);
      sv("text", {x: left + pw, y: h + 14, "class": "lk-axis", "text-anchor": "end"}, svg, o.x[n - 1]);
    }
    if (o.shade) {
      sv("rect", {x: X(o.shade[0]), width: Math.max(1, X(o.shade[1]) - X(o.shade[0])), y: 4, height: h - 8,
                  "class": "lk-shade"}, svg);
    }
    if (o.band) {
      var up = [], down = [];
      for (var i = 0; i < n; i++) {
        if (o.band.low[i] !== null && o.band.high[i] !== null) {
          up.push(X(i) + "," + Y(o.band.high[i]));
          down.unshift(X(i) + "," + Y(o.band.low[i]));
        }
      }
      if (up.length) sv("polygon", {points: up.concat(down).join(" "), "class": "lk-band"}, svg);
    }
    o.lines.forEach(function (l) {
      var seg = [];
      function flush() {
        if (seg.length) sv("polyline", {points: seg.join(" "), fill: "none", stroke: l.color,
                                        "stroke-width": l.w || 1.5, "stroke-opacity": l.op || 1,
                                        "class": l.cls || ""}, svg);
        seg = [];
      }
      for (var i = 0; i < l.v.length; i++) {
        if (l.v[i] === null || l.v[i] === undefined) { flush(); } else { seg.push(X(i) + "," + Y(l.v[i])); }
      }
      flush();
    });
    (o.marks || []).forEach(function (m) {
      m.idx.forEach(function (i) {
        sv("circle", {cx: X(i), cy: h - 6, r: 2.5, fill: m.color, "class": "lk-mark"}, svg);
      });
    });
    var keys = o.lines.filter(function (l) { return l.label; }).concat(o.marks || []);
    keys.forEach(function (l, k) {
      sv("text", {x: W - 10, y: 12 + 12 * k, "text-anchor": "end", "class": "lk-key", fill: l.color}, svg, l.label);
    });
    return svg;
  }
  var CA = "#1f5fbf", CB = "#e66a00";
  function unitLines(gate, offset, n) {
    function place(v) {
      var out = new Array(n).fill(null);
      v.forEach(function (x, k) { out[offset + k] = x; });
      return out;
    }
    var ls = [{v: place(col(gate, S.a)), color: CA, w: 2, label: "unit " + S.a}];
    if (S.b >= 0) ls.push({v: place(col(gate, S.b)), color: CB, w: 2, label: "unit " + S.b});
    return ls;
  }
  function drawLines() {
    lines.innerHTML = "";
    var T = seq().tokens.length, shade = S.span ? S.span : null;
    chart(lines, {n: T, lines: unitLines(S.gate, 0, T), yr: S.gate === "c" ? null : range(), x: seq().tokens,
                  title: S.gate + " of the selected units", shade: shade, cls: "lk-gate-chart"});
    var cg = vals("c") ? "c" : "h", H = nUnits(cg), ls = [];
    for (var u = 0; u < H; u++) {
      if (u !== S.a && u !== S.b) ls.push({v: col(cg, u), color: "#999", w: 1, op: 0.35});
    }
    chart(lines, {n: T, lines: ls.concat(unitLines(cg, 0, T)), x: seq().tokens, height: 160,
                  title: (cg === "c" ? "cell state c" : "output h") + " of every unit (selected in colour)",
                  cls: "lk-cell-chart"});
  }
  function drawSeries() {
    var q = seq(), s = q.series;
    secSeries.style.display = s ? "" : "none";
    seriesBox.innerHTML = "";
    if (!s) return;
    var n = s.x.length, palette = ["#333", "#7a3", "#a37", "#37a", "#aa3"], k = 0, ls = [];
    for (var name in s.channels) ls.push({v: s.channels[name], color: palette[k++ % palette.length], label: name});
    for (name in s.overlay) ls.push({v: s.overlay[name], color: "#c0392b", w: 2, label: name});
    var marks = [], mc = ["#d62728", "#9467bd"], m = 0;
    for (name in s.marks) marks.push({idx: s.marks[name], color: mc[m++ % 2], label: name});
    chart(seriesBox, {n: n, lines: ls, band: s.band || null, marks: marks, x: s.x, height: 150, title: "input"});
    for (name in s.lines) chart(seriesBox, {n: n, lines: [{v: s.lines[name], color: "#8e44ad", label: name}],
                                            x: s.x, height: 80, title: name});
    var T = q.tokens.length, shade = [s.trace_start, s.trace_start + T - 1];
    chart(seriesBox, {n: n, lines: unitLines(S.gate, s.trace_start, n), yr: S.gate === "c" ? null : range(),
                      x: s.x, height: 110, title: S.gate + " of the selected units, under the steps it read",
                      shade: shade, cls: "lk-series-gates"});
  }

  // ------------------------------------------------------------------ saturation
  function drawSat() {
    sat.innerHTML = "";
    var per = D.saturation[S.layer], lim = D.meta.saturation_limits;
    Object.keys(per).forEach(function (g) {
      var box = el("div", {"class": "lk-satbox"}, sat);
      var size = 200, pad = 28;
      var svg = sv("svg", {width: size + pad + 6, height: size + pad + 16, "class": "lk-sat-svg"}, box);
      function X(v) { return pad + v * size; }
      function Y(v) { return 6 + (1 - v) * size; }
      sv("rect", {x: pad, y: 6, width: size, height: size, "class": "lk-frame"}, svg);
      sv("line", {x1: X(0), y1: Y(1), x2: X(1), y2: Y(0), "class": "lk-axisline"}, svg);
      sv("text", {x: pad + size / 2, y: size + 22, "text-anchor": "middle", "class": "lk-axis"}, svg,
         "left-saturated (< " + lim[0] + ")");
      sv("text", {x: 10, y: 6 + size / 2, "class": "lk-axis", transform: "rotate(-90 10 " + (6 + size / 2) + ")",
                  "text-anchor": "middle"}, svg, "right-saturated (> " + lim[1] + ")");
      sv("text", {x: pad + 4, y: 18, "class": "lk-ctitle"}, svg, g + " gate");
      var L = per[g].left, R = per[g].right;
      L.forEach(function (l, u) {
        var sel = u === S.a ? " lk-sel-a" : (u === S.b ? " lk-sel-b" : "");
        var c = sv("circle", {cx: X(l), cy: Y(R[u]), r: sel ? 5 : 3, "class": "lk-sat-pt" + sel,
                              "data-unit": u, "data-gate": g}, svg);
        sv("title", {}, c, "unit " + u + ": left " + fmt(l) + ", right " + fmt(R[u]));
      });
    });
  }
  sat.addEventListener("click", function (e) {
    var u = e.target.getAttribute && e.target.getAttribute("data-unit");
    if (u !== null && u !== undefined) setUnit(+u, e.shiftKey ? "b" : "a");
  });

  // ------------------------------------------------------------------ attention
  function drawAttn() {
    var a = seq().attention;
    secAttn.style.display = a ? "" : "none";
    attn.innerHTML = "";
    if (!a) return;
    var cs = 22, top = 70, left = 90, S0 = a.source.length, T0 = a.target.length;
    var svg = sv("svg", {width: left + S0 * cs + 10, height: top + T0 * cs + 10, id: "lk-attn-svg"}, attn);
    a.source.forEach(function (s, j) {
      var x = left + j * cs + cs / 2;
      sv("text", {x: x, y: top - 4, "class": "lk-axis", transform: "rotate(-60 " + x + " " + (top - 4) + ")"}, svg, s);
    });
    a.target.forEach(function (t, i) {
      sv("text", {x: left - 4, y: top + i * cs + cs * 0.7, "class": "lk-axis", "text-anchor": "end"}, svg, t);
      a.weights[i].forEach(function (w, j) {
        sv("rect", {x: left + j * cs, y: top + i * cs, width: cs - 1, height: cs - 1, fill: colour(w, [0, 1]),
                    "class": "lk-attn-cell", "data-i": i, "data-j": j}, svg);
      });
    });
    svg.addEventListener("mousemove", function (e) {
      var t = e.target;
      if (!t.classList || !t.classList.contains("lk-attn-cell")) return;
      var i = +t.getAttribute("data-i"), j = +t.getAttribute("data-j");
      attnInfo.textContent = "target '" + a.target[i] + "' \u2190 source '" + a.source[j] + "': " + fmt(a.weights[i][j]);
      var spans = tokens.querySelectorAll(".lk-tok");
      for (var k = 0; k < spans.length; k++) spans[k].classList.toggle("lk-attn-hot", k === j);
    });
  }

  // ------------------------------------------------------------------ state changes
  function drawStatus() {
    status.textContent = "unit A = " + S.a + (S.b >= 0 ? ", unit B = " + S.b : "") + "  (" + S.gate +
      ", layer " + S.layer + ", " + nUnits() + " units, " + seq().tokens.length + " steps)";
  }
  function setUnit(u, which) {
    var H = nUnits();
    if (!(u >= 0) || u >= H) u = which === "b" ? -1 : Math.max(0, Math.min(H - 1, u | 0));
    if (which === "b") { S.b = u; inB.value = u; } else { S.a = u; inA.value = u; }
    drawTokens(); moveHeatSelection(); drawLines(); drawSeries(); drawSat(); drawStatus();
  }
  findBtn.addEventListener("click", function () {
    matches.innerHTML = "";
    if (!S.span) { el("li", {}, matches, "select a span of tokens first"); return; }
    findUnits(vals(), S.span[0], S.span[1], S.threshold, 10).forEach(function (m) {
      var li = el("li", {"class": "lk-match", "data-unit": m.unit}, matches,
                  "unit " + m.unit + ": match " + m.match.toFixed(3) + ", mean over span " + fmt(m.mean));
      li.addEventListener("click", function () { setUnit(m.unit, "a"); });
    });
  });
  function drawAll() {
    if (S.a >= nUnits()) S.a = 0;
    if (S.b >= nUnits()) S.b = -1;
    inA.max = nUnits() - 1; inB.max = nUnits() - 1;
    drawTokens(); drawSpan(); drawHeat(); drawLines(); drawSeries(); drawSat(); drawAttn(); drawStatus();
  }
  drawAll();
  root.setAttribute("data-ready", "1");
})();
