(function () {
  "use strict";
  // Shares of preference as offerlab.decide computes them: for every population row r,
  // V_rj = scale * sum over attributes of the level utility (numbers between two levels
  // interpolated), share_j = sum_r w_r exp(V_rj) / sum_k exp(V_rk). Intervals: the same
  // sum over each uncertainty draw's rows, then the percentile interval over the draws
  // (numpy's default linear quantile), as MarketSimulator.shares does.
  var D = JSON.parse(document.getElementById("simulator-data").textContent);
  var W = D.draws || null;
  function normalised(w) { var t = w.reduce(function (a, b) { return a + b; }, 0); return w.map(function (x) { return x / t; }); }
  D.weights = normalised(D.weights);  // shares then sum to 1 whatever rounding the file saw
  if (W) { W.weights = normalised(W.weights); }
  var priceAttr = D.attributes.filter(function (a) { return a.kind === "price"; })[0] || null;
  var offers = D.offers.map(function (o) { return { name: o.name, ours: o.ours, on: true, levels: Object.assign({}, o.levels) }; });
  var fixedOn = D.fixed.map(function () { return true; });
  function idx(name) { return "sim-" + name.replace(/[^A-Za-z0-9]/g, "_"); }
  function utility(attr, table, value, r) {
    var u = attr[table][r];
    if (attr.kind === "categorical") { return u[attr.levels.indexOf(value)]; }
    var v = Number(value), L = attr.levels, k = 0;
    if (v <= L[0]) { return u[0]; }
    if (v >= L[L.length - 1]) { return u[L.length - 1]; }
    while (k < L.length - 2 && v > L[k + 1]) { k++; }
    var t = (v - L[k]) / (L[k + 1] - L[k]);
    return u[k] + t * (u[k + 1] - u[k]);
  }
  function prohibited(o) {
    return D.prohibitions.some(function (p) {
      return Object.keys(p).every(function (a) { return String(o.levels[a]) === String(p[a]) || Number(o.levels[a]) === Number(p[a]); });
    });
  }
  // Shares over rows start .. start + count - 1 of the table "utilities" or "draw_utilities".
  function sharesOver(table, start, count, weights) {
    var J = offers.length + D.fixed.length, S = new Array(J).fill(0);
    for (var i = 0; i < count; i++) {
      var r = start + i, V = new Array(J).fill(-Infinity), m = -Infinity;
      offers.forEach(function (o, j) {
        if (!o.on) { return; }
        var s = 0;
        D.attributes.forEach(function (a) { s += utility(a, table, o.levels[a.name], r); });
        V[j] = D.scale * s;
      });
      D.fixed.forEach(function (f, k) { if (fixedOn[k]) { V[offers.length + k] = D.scale * f[table][r]; } });
      V.forEach(function (v) { if (v > m) { m = v; } });
      var den = 0, E = V.map(function (v) { var e = isFinite(v) ? Math.exp(v - m) : 0; den += e; return e; });
      for (var j = 0; j < J; j++) { S[j] += weights[i] * E[j] / den; }
    }
    return S;
  }
  // Cost per sale of an offer from the market file's costs (decide.Costs): a base plus
  // one amount per level, numbers between two costed levels interpolated.
  function levelKey(v) { return typeof v === "string" ? v : String(Number(v)); }
  function costOf(o) {
    if (!D.costs) { return NaN; }
    var total = D.costs.base;
    Object.keys(D.costs.levels).forEach(function (a) {
      var table = D.costs.levels[a], v = o.levels[a], k = levelKey(v);
      if (Object.prototype.hasOwnProperty.call(table, k)) { total += table[k]; return; }
      var xs = Object.keys(table).map(Number).sort(function (x, y) { return x - y; }), x = Number(v), i = 0;
      if (!xs.length || !(x >= xs[0] && x <= xs[xs.length - 1])) { total = NaN; return; }
      while (i < xs.length - 2 && x > xs[i + 1]) { i++; }
      var c0 = table[levelKey(xs[i])], c1 = table[levelKey(xs[i + 1])];
      total += c0 + (x - xs[i]) / (xs[i + 1] - xs[i]) * (c1 - c0);
    });
    return total;
  }
  function quantile(sorted, q) {
    var h = (sorted.length - 1) * q, lo = Math.floor(h), hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }
  function compute() {
    var names = [], active = [], prices = [], margins = [], ours = [];
    offers.forEach(function (o) {
      names.push(o.name); active.push(o.on); ours.push(o.ours);
      var p = priceAttr ? Number(o.levels[priceAttr.name]) : NaN;
      prices.push(p); margins.push(o.ours ? p - costOf(o) : NaN);
    });
    D.fixed.forEach(function (f, k) {
      names.push(f.label); active.push(fixedOn[k]); ours.push(false); margins.push(NaN);
      prices.push(f.price === null || f.price === undefined ? NaN : f.price);
    });
    var point = sharesOver("utilities", 0, D.weights.length, D.weights);
    // Our offers together, as decide.market_money adds them: share, revenue, profit.
    function ourTotals(sh) {
      var t = { share: 0, revenue: 0, profit: 0 };
      for (var j = 0; j < names.length; j++) {
        if (!ours[j] || !active[j]) { continue; }
        t.share += sh[j]; t.revenue += prices[j] * sh[j]; t.profit += margins[j] * sh[j];
      }
      return t;
    }
    var total = { point: ourTotals(point) };
    var lower = null, upper = null, plower = null, pupper = null;
    if (W) {
      var J = names.length, byAlt = names.map(function () { return []; }), tail = (1 - W.interval) / 2;
      var profits = names.map(function () { return []; }), sums = { share: [], revenue: [], profit: [] };
      for (var s = 0; s < W.n; s++) {
        var sh = sharesOver("draw_utilities", s * W.rows, W.rows, W.weights);
        for (var j = 0; j < J; j++) { byAlt[j].push(sh[j]); profits[j].push(margins[j] * sh[j]); }
        var t = ourTotals(sh);
        Object.keys(sums).forEach(function (k) { sums[k].push(t[k]); });
      }
      function sorted(x) { return x.slice().sort(function (a, b) { return a - b; }); }
      byAlt = byAlt.map(sorted); profits = profits.map(sorted);
      lower = byAlt.map(function (x) { return quantile(x, tail); });
      upper = byAlt.map(function (x) { return quantile(x, 1 - tail); });
      plower = profits.map(function (x) { return quantile(x, tail); });
      pupper = profits.map(function (x) { return quantile(x, 1 - tail); });
      total.lower = {}; total.upper = {};
      Object.keys(sums).forEach(function (k) {
        var x = sorted(sums[k]);
        total.lower[k] = quantile(x, tail); total.upper[k] = quantile(x, 1 - tail);
      });
    }
    return { names: names, active: active, prices: prices, margins: margins, point: point,
             lower: lower, upper: upper, plower: plower, pupper: pupper, total: total };
  }
  function percent(x) { return (100 * x).toFixed(1) + "%"; }
  function money(x) { return (D.currency ? D.currency + " " : "") + x.toFixed(2); }
  function range(lo, hi, fmt) { return fmt(lo) + " – " + fmt(hi); }
  function plain(x) { return x.toFixed(2); }
  // A money cell: the value, and under it its interval (the same draws as the shares').
  function moneyCell(cls, value, lo, hi) {
    var cell = document.createElement("span");
    cell.className = cls;
    if (!isFinite(value)) { return cell; }
    cell.textContent = money(value);
    if (lo !== null && isFinite(lo)) {
      var small = document.createElement("small");
      small.textContent = range(lo, hi, plain);
      cell.appendChild(small);
    }
    return cell;
  }
  function render() {
    var res = compute(), box = document.getElementById("sim-shares"), total = 0;
    var withCosts = !!D.costs;
    box.innerHTML = "";
    var head = document.createElement("div");
    head.className = "sim-head note";
    head.innerHTML = '<span class="name"></span><span class="track" style="background:none"></span><span class="value">share</span>' +
      '<span class="interval">' + (W ? Math.round(100 * W.interval) + "% interval" : "") + '</span><span class="revenue">revenue per person</span>' +
      (withCosts ? '<span class="margin">margin per sale</span><span class="profit">profit per person</span>' : "");
    box.appendChild(head);
    res.names.forEach(function (n, j) {
      var row = document.createElement("div"), p = res.point[j], price = res.prices[j];
      total += p;
      row.className = "bar";
      row.setAttribute("data-alternative", n);
      row.setAttribute("data-share", p.toFixed(12));
      var ours = j < offers.length && offers[j].ours;
      var whisker = "", interval = "";
      if (!res.active[j]) {
        interval = "not in the market";
      } else if (res.lower) {
        row.setAttribute("data-lower", res.lower[j].toFixed(12));
        row.setAttribute("data-upper", res.upper[j].toFixed(12));
        whisker = '<span class="whisker" style="left:' + (100 * res.lower[j]).toFixed(2) + "%;width:" +
          (100 * (res.upper[j] - res.lower[j])).toFixed(2) + '%"></span>';
        interval = percent(res.lower[j]) + " – " + percent(res.upper[j]);
      }
      row.innerHTML = '<span class="name"></span><span class="track"><span class="fill' + (ours ? "" : " other") +
        '" style="display:block;width:' + (100 * p).toFixed(2) + '%"></span>' + whisker + '</span><span class="value">' +
        percent(p) + '</span><span class="interval">' + interval + '</span>';
      row.querySelector(".name").textContent = n + (ours ? " (ours)" : "");
      var priced = isFinite(price) && res.active[j];
      if (priced) {
        row.setAttribute("data-revenue", (price * p).toFixed(10));
        if (res.lower) {
          row.setAttribute("data-revenue-lower", (price * res.lower[j]).toFixed(10));
          row.setAttribute("data-revenue-upper", (price * res.upper[j]).toFixed(10));
        }
      }
      row.appendChild(moneyCell("revenue", priced ? price * p : NaN,
        res.lower ? price * res.lower[j] : null, res.lower ? price * res.upper[j] : null));
      if (withCosts) {
        var m = res.margins[j], hasProfit = priced && isFinite(m);
        var mc = document.createElement("span");
        mc.className = "margin";
        mc.textContent = hasProfit ? money(m) : "";
        row.appendChild(mc);
        if (hasProfit) {
          row.setAttribute("data-margin", m.toFixed(10));
          row.setAttribute("data-profit", (m * p).toFixed(10));
          if (res.plower) {
            row.setAttribute("data-profit-lower", res.plower[j].toFixed(10));
            row.setAttribute("data-profit-upper", res.pupper[j].toFixed(10));
          }
        }
        row.appendChild(moneyCell("profit", hasProfit ? m * p : NaN,
          hasProfit && res.plower ? res.plower[j] : null, hasProfit && res.plower ? res.pupper[j] : null));
      }
      box.appendChild(row);
    });
    // Our offers together: the recommendation's numbers, per person in the market.
    var T = res.total, sum = document.createElement("div");
    sum.className = "bar sim-ours";
    var oursBox = document.getElementById("sim-ours");
    oursBox.innerHTML = "";
    sum.setAttribute("data-alternative", "(our offers)");
    sum.setAttribute("data-share", T.point.share.toFixed(12));
    sum.setAttribute("data-revenue", T.point.revenue.toFixed(10));
    if (withCosts) { sum.setAttribute("data-profit", T.point.profit.toFixed(10)); }
    if (T.lower) {
      sum.setAttribute("data-lower", T.lower.share.toFixed(12));
      sum.setAttribute("data-upper", T.upper.share.toFixed(12));
      sum.setAttribute("data-revenue-lower", T.lower.revenue.toFixed(10));
      sum.setAttribute("data-revenue-upper", T.upper.revenue.toFixed(10));
      if (withCosts) {
        sum.setAttribute("data-profit-lower", T.lower.profit.toFixed(10));
        sum.setAttribute("data-profit-upper", T.upper.profit.toFixed(10));
      }
    }
    sum.innerHTML = '<span class="name">Our offers together</span><span class="track" style="background:none"></span>' +
      '<span class="value">' + percent(T.point.share) + '</span><span class="interval">' +
      (T.lower ? range(T.lower.share, T.upper.share, percent) : "") + "</span>";
    sum.appendChild(moneyCell("revenue", T.point.revenue, T.lower ? T.lower.revenue : null, T.lower ? T.upper.revenue : null));
    if (withCosts) {
      var blank = document.createElement("span"); blank.className = "margin"; sum.appendChild(blank);
      sum.appendChild(moneyCell("profit", T.point.profit, T.lower ? T.lower.profit : null, T.lower ? T.upper.profit : null));
    }
    oursBox.appendChild(sum);
    var t = document.getElementById("sim-total");
    t.textContent = (100 * total).toFixed(1) + "%";
    t.setAttribute("data-total", total.toFixed(12));
    offers.forEach(function (o) {
      var w = document.getElementById(idx(o.name) + "-warn");
      if (w) { w.textContent = prohibited(o) ? "The study never showed this combination: a guess from main effects." : ""; }
    });
  }
  function control(o, a, card) {
    var lab = document.createElement("label"), id = idx(o.name) + "-" + a.name;
    lab.textContent = a.label; lab.htmlFor = id;
    card.appendChild(lab);
    if (a.kind === "price") {
      var lo = a.levels[0], hi = a.levels[a.levels.length - 1];
      var range = document.createElement("input"), num = document.createElement("input");
      range.type = "range"; range.min = lo; range.max = hi; range.step = 1; range.value = o.levels[a.name];
      range.id = id + "-slider"; range.setAttribute("aria-label", a.label + " (slider)");
      num.type = "number"; num.min = lo; num.max = hi; num.step = 1; num.value = o.levels[a.name]; num.id = id;
      range.addEventListener("input", function () { num.value = range.value; o.levels[a.name] = Number(range.value); render(); });
      num.addEventListener("change", function () {
        var v = Math.min(hi, Math.max(lo, Number(num.value) || lo));
        num.value = v; range.value = v; o.levels[a.name] = v; render();
      });
      card.appendChild(range); card.appendChild(num);
      return;
    }
    var sel = document.createElement("select");
    sel.id = id;
    a.levels.forEach(function (v, i) {
      var op = document.createElement("option");
      op.value = String(v); op.textContent = a.labels[i];
      if (String(v) === String(o.levels[a.name]) || Number(v) === Number(o.levels[a.name])) { op.selected = true; }
      sel.appendChild(op);
    });
    sel.addEventListener("change", function () { o.levels[a.name] = a.kind === "categorical" ? sel.value : Number(sel.value); render(); });
    card.appendChild(sel);
  }
  var holder = document.getElementById("sim-offers");
  offers.forEach(function (o) {
    var card = document.createElement("div");
    card.className = "sim-offer" + (o.ours ? " ours" : "");
    card.id = idx(o.name);
    var head = document.createElement("h3"), on = document.createElement("input");
    on.type = "checkbox"; on.checked = true; on.id = idx(o.name) + "-on"; on.setAttribute("aria-label", "in the market");
    on.addEventListener("change", function () { o.on = on.checked; render(); });
    head.appendChild(on); head.appendChild(document.createTextNode(" " + o.name + (o.ours ? " (ours)" : "")));
    card.appendChild(head);
    D.attributes.forEach(function (a) { control(o, a, card); });
    var warn = document.createElement("div"); warn.className = "warn"; warn.id = idx(o.name) + "-warn";
    card.appendChild(warn);
    holder.appendChild(card);
  });
  var fx = document.getElementById("sim-fixed");
  D.fixed.forEach(function (f, i) {
    var lab = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox"; box.checked = true; box.id = idx(f.name) + "-on";
    box.addEventListener("change", function () { fixedOn[i] = box.checked; render(); });
    lab.appendChild(box); lab.appendChild(document.createTextNode(" " + f.label + "  "));
    fx.appendChild(lab);
  });
  var note = document.getElementById("sim-interval-note");
  if (note) { note.textContent = W ? W.note : "Point estimates (the fit gives no uncertainty draws)."; }
  render();
}());
