(function () {
  "use strict";
  // Shares of preference as offerlab.decide computes them: for every population row r,
  // V_rj = scale * sum over attributes of the level utility (numbers between two levels
  // interpolated), share_j = sum_r w_r exp(V_rj) / sum_k exp(V_rk). Intervals: the same
  // sum over each uncertainty draw's rows, then the percentile interval over the draws
  // (numpy's default linear quantile), as MarketSimulator.shares does.
  var D = JSON.parse(document.getElementById("simulator-data").textContent);
  var W = D.draws || null;
  // The page's words and the study's labels in the reader's language (the console writes
  // them into #simulator-texts); English defaults where a page has none.
  var T = {
    locale: "en", share: "share", interval: "{p}% interval", revenue: "revenue per person",
    margin: "margin per sale", profit: "profit per person", ours: " (ours)",
    not_in_market: "not in the market", together: "Our offers together", in_market: "in the market",
    never_shown: "The study never showed this combination: a guess from main effects.",
    point_only: "Point estimates (the fit gives no uncertainty draws).", slider: "(slider)",
    revenue_short: "revenue", margin_short: "margin", profit_short: "profit",
    delta_share: "± share vs. base", delta_money: "± profit vs. base",
    delta_revenue: "± revenue vs. base", points: "{d} pts", whole_market: "Whole market",
    segment: "Segment {n} ({share} of the market)", filter_option: "{label} ({share} of the market)",
    filter_unavailable: "This model has no part-worths of each person (mixed logit, MNL), so the market cannot be split by what people answered; hierarchical Bayes or latent classes can.",
    attributes: {}, fixed: {}, filters: {}
  };
  var given = document.getElementById("simulator-texts");
  if (given) { Object.assign(T, JSON.parse(given.textContent)); }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return Object.prototype.hasOwnProperty.call(values, k) ? values[k] : m; });
  }
  D.attributes.forEach(function (a) {
    var own = T.attributes[a.name];
    if (own) { a.label = own.label || a.label; if (own.labels && own.labels.length === a.labels.length) { a.labels = own.labels; } }
  });
  D.fixed.forEach(function (f) { if (T.fixed[f.name]) { f.label = T.fixed[f.name]; } });
  function normalised(w) { var t = w.reduce(function (a, b) { return a + b; }, 0); return w.map(function (x) { return x / t; }); }
  D.weights = normalised(D.weights);  // shares then sum to 1 whatever rounding the file saw
  if (W) { W.weights = normalised(W.weights); }
  // Segments: latent classes (D.segments) and, for individual-level fits, the people who
  // gave one answer to a profile question (D.filters: age band, region...). A segment's
  // shares are those of its rows, their weights renormalised, as
  // MarketSimulator.shares(by_segment=True) and decide.filtered_shares compute them; a
  // profile segment's draws are, per draw, its people in that draw's bootstrap sample.
  // A segment is named by its key: the class label, or "question=option". A multi-select
  // question's codes are bit masks of the options ticked (a person is in every option they
  // ticked); a latent-class fit's filter gives per option the weights of its class rows
  // (the mean posterior class probabilities of its people), the same in every draw.
  var SEG = D.segments || null, FIL = D.filters || [], segment = null;
  var allWeights = { rows: D.weights, draws: W ? W.weights : null };
  function isIn(code, g, multi) { return multi ? code > 0 && ((code >> g) & 1) === 1 : code === g; }
  function maskedBy(weights, codes, g, multi) {
    return normalised(weights.map(function (w, i) { return isIn(codes[i], g, multi) ? w : 0; }));
  }
  function segmentOf(key) {
    if (key === null || key === undefined || key === "") { return null; }
    if (SEG && SEG.labels.indexOf(key) >= 0) {
      return { key: key, g: SEG.labels.indexOf(key), rows: SEG.rows, draws: SEG.draw_rows, perDraw: false };
    }
    var eq = String(key).indexOf("="), found = null;
    FIL.forEach(function (f) {
      var g = f.options.indexOf(String(key).slice(eq + 1));
      if (eq > 0 && f.question === String(key).slice(0, eq) && g >= 0) {
        found = f.class_weights
          ? { key: key, g: g, weights: f.class_weights[g], perDraw: false }
          : { key: key, g: g, rows: f.rows, draws: f.draw_rows, perDraw: true, multi: !!f.multi };
      }
    });
    return found;
  }
  function setSegment(key) {
    segment = segmentOf(key);
    if (segment && segment.weights) {  // latent classes: the segment's class mix
      D.weights = normalised(segment.weights);
      if (W) { W.weights = normalised(segment.weights); }
      return;
    }
    D.weights = segment ? maskedBy(allWeights.rows, segment.rows, segment.g, segment.multi) : allWeights.rows;
    if (W) {
      W.weights = segment && segment.draws && !segment.perDraw
        ? maskedBy(allWeights.draws, segment.draws, segment.g, false) : allWeights.draws;
    }
  }
  // The weights of draw s's rows: a profile segment keeps its people in that draw (none
  // in it: the draw says nothing of the segment and is left out).
  function drawWeights(s) {
    if (!segment || !segment.perDraw || !segment.draws) { return W.weights; }
    var w = [], total = 0;
    for (var r = 0; r < W.rows; r++) {
      var x = isIn(segment.draws[s * W.rows + r], segment.g, segment.multi) ? allWeights.draws[r] : 0;
      w.push(x); total += x;
    }
    return total > 0 ? w.map(function (x) { return x / total; }) : null;
  }
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
        var ws = drawWeights(s);
        if (!ws) { continue; }
        var sh = sharesOver("draw_utilities", s * W.rows, W.rows, ws);
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
  var pctFormat = new Intl.NumberFormat(T.locale, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var numFormat = new Intl.NumberFormat(T.locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var ptsFormat = new Intl.NumberFormat(T.locale, { minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: "exceptZero" });
  var signedFormat = new Intl.NumberFormat(T.locale, { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: "exceptZero" });
  function percent(x) { return pctFormat.format(x); }
  function money(x) { return (D.currency ? D.currency + " " : "") + numFormat.format(x); }
  function range(lo, hi, fmt) { return fmt(lo) + " – " + fmt(hi); }
  function plain(x) { return numFormat.format(x); }
  function points(d) { return fill(T.points, { d: ptsFormat.format(100 * d) }); }
  function signedMoney(d) { return (D.currency ? D.currency + " " : "") + signedFormat.format(d); }
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
  // -- scenarios: the offers' levels, who is in the market, the segment -----------------
  function getState() {
    var state = { offers: {}, fixed: {}, segment: segment ? segment.key : null };
    offers.forEach(function (o) { state.offers[o.name] = { on: o.on, levels: Object.assign({}, o.levels) }; });
    D.fixed.forEach(function (f, k) { state.fixed[f.name] = fixedOn[k]; });
    return state;
  }
  function setState(state) {
    offers.forEach(function (o, j) {
      var saved = state.offers && state.offers[o.name];
      o.on = saved ? saved.on !== false : true;
      o.levels = Object.assign({}, D.offers[j].levels);
      if (!saved || !saved.levels) { return; }
      D.attributes.forEach(function (a) {
        var v = saved.levels[a.name];
        if (v === undefined) { return; }
        if (a.kind === "categorical") { if (a.levels.indexOf(String(v)) >= 0) { o.levels[a.name] = String(v); } return; }
        var x = Number(v), lo = a.levels[0], hi = a.levels[a.levels.length - 1];
        if (isFinite(x)) { o.levels[a.name] = Math.min(hi, Math.max(lo, x)); }
      });
    });
    D.fixed.forEach(function (f, k) { fixedOn[k] = !(state.fixed && state.fixed[f.name] === false); });
    setSegment(state.segment);
  }
  var published = getState(), baseState = null;
  function computeFor(state) {
    var now = getState();
    setState(state);
    var res = compute();
    setState(now);
    return res;
  }
  function deltaCell(cls, text, value) {
    var cell = document.createElement("span");
    cell.className = "delta " + cls + (value > 0 ? " up" : value < 0 ? " down" : "");
    cell.textContent = text;
    return cell;
  }
  function render() {
    var res = compute(), box = document.getElementById("sim-shares"), total = 0;
    var withCosts = !!D.costs, base = baseState ? computeFor(baseState) : null;
    var moneyKey = withCosts ? "profit" : "revenue";
    box.innerHTML = "";
    var head = document.createElement("div");
    head.className = "sim-head note";
    function headCell(cls, text) { var s = document.createElement("span"); s.className = cls; s.textContent = text; head.appendChild(s); }
    headCell("name", ""); headCell("track", ""); head.lastChild.style.background = "none";
    headCell("value", T.share);
    headCell("interval", W ? fill(T.interval, { p: Math.round(100 * W.interval) }) : "");
    headCell("revenue", T.revenue);
    if (withCosts) { headCell("margin", T.margin); headCell("profit", T.profit); }
    if (base) { headCell("delta", T.delta_share); headCell("delta", withCosts ? T.delta_money : T.delta_revenue); }
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
        interval = T.not_in_market;
      } else if (res.lower) {
        row.setAttribute("data-lower", res.lower[j].toFixed(12));
        row.setAttribute("data-upper", res.upper[j].toFixed(12));
        whisker = '<span class="whisker" style="left:' + (100 * res.lower[j]).toFixed(2) + "%;width:" +
          (100 * (res.upper[j] - res.lower[j])).toFixed(2) + '%"></span>';
        interval = percent(res.lower[j]) + " – " + percent(res.upper[j]);
      }
      row.innerHTML = '<span class="name"></span><span class="track"><span class="fill' + (ours ? "" : " other") +
        '" style="display:block;width:' + (100 * p).toFixed(2) + '%"></span>' + whisker + '</span><span class="value"></span><span class="interval"></span>';
      row.querySelector(".value").textContent = percent(p);
      row.querySelector(".interval").textContent = interval;
      row.querySelector(".name").textContent = n + (ours ? T.ours : "");
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
      var m = res.margins[j], hasProfit = priced && isFinite(m);
      if (withCosts) {
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
      if (base) {  // the change against the base case, share in points and money per person
        var ds = p - base.point[j];
        row.setAttribute("data-delta-share", ds.toFixed(12));
        row.appendChild(deltaCell("delta-share", points(ds), ds));
        var now = withCosts ? (hasProfit ? m * p : NaN) : (priced ? price * p : NaN);
        var bm = withCosts ? base.margins[j] * base.point[j] : base.prices[j] * base.point[j];
        var shown = isFinite(now) || (base.active[j] && isFinite(bm));
        if (!base.active[j] || !isFinite(bm)) { bm = 0; }
        if (!isFinite(now)) { now = 0; }
        var dm = now - bm;
        if (shown) { row.setAttribute("data-delta-" + moneyKey, dm.toFixed(10)); }
        row.appendChild(deltaCell("delta-money", shown ? signedMoney(dm) : "", shown ? dm : 0));
      }
      box.appendChild(row);
    });
    // Our offers together: the recommendation's numbers, per person in the market.
    var Tt = res.total, sum = document.createElement("div");
    sum.className = "bar sim-ours";
    var oursBox = document.getElementById("sim-ours");
    oursBox.innerHTML = "";
    sum.setAttribute("data-alternative", "(our offers)");
    sum.setAttribute("data-share", Tt.point.share.toFixed(12));
    sum.setAttribute("data-revenue", Tt.point.revenue.toFixed(10));
    if (withCosts) { sum.setAttribute("data-profit", Tt.point.profit.toFixed(10)); }
    if (Tt.lower) {
      sum.setAttribute("data-lower", Tt.lower.share.toFixed(12));
      sum.setAttribute("data-upper", Tt.upper.share.toFixed(12));
      sum.setAttribute("data-revenue-lower", Tt.lower.revenue.toFixed(10));
      sum.setAttribute("data-revenue-upper", Tt.upper.revenue.toFixed(10));
      if (withCosts) {
        sum.setAttribute("data-profit-lower", Tt.lower.profit.toFixed(10));
        sum.setAttribute("data-profit-upper", Tt.upper.profit.toFixed(10));
      }
    }
    sum.innerHTML = '<span class="name"></span><span class="track" style="background:none"></span>' +
      '<span class="value"></span><span class="interval"></span>';
    sum.querySelector(".name").textContent = T.together;
    sum.querySelector(".value").textContent = percent(Tt.point.share);
    sum.querySelector(".interval").textContent = Tt.lower ? range(Tt.lower.share, Tt.upper.share, percent) : "";
    sum.appendChild(moneyCell("revenue", Tt.point.revenue, Tt.lower ? Tt.lower.revenue : null, Tt.lower ? Tt.upper.revenue : null));
    if (withCosts) {
      var blank = document.createElement("span"); blank.className = "margin"; sum.appendChild(blank);
      sum.appendChild(moneyCell("profit", Tt.point.profit, Tt.lower ? Tt.lower.profit : null, Tt.lower ? Tt.upper.profit : null));
    }
    if (base) {
      var dShare = Tt.point.share - base.total.point.share;
      var dMoney = Tt.point[moneyKey] - base.total.point[moneyKey];
      sum.setAttribute("data-delta-share", dShare.toFixed(12));
      sum.setAttribute("data-delta-" + moneyKey, dMoney.toFixed(10));
      sum.appendChild(deltaCell("delta-share", points(dShare), dShare));
      sum.appendChild(deltaCell("delta-money", signedMoney(dMoney), dMoney));
    }
    oursBox.appendChild(sum);
    var t = document.getElementById("sim-total");
    t.textContent = percent(total);
    t.setAttribute("data-total", total.toFixed(12));
    offers.forEach(function (o) {
      var w = document.getElementById(idx(o.name) + "-warn");
      if (w) { w.textContent = prohibited(o) ? T.never_shown : ""; }
    });
  }
  function control(o, a, card) {
    var lab = document.createElement("label"), id = idx(o.name) + "-" + a.name;
    lab.textContent = a.label; lab.htmlFor = id;
    card.appendChild(lab);
    if (a.kind === "price") {
      var lo = a.levels[0], hi = a.levels[a.levels.length - 1];
      var slider = document.createElement("input"), num = document.createElement("input");
      slider.type = "range"; slider.min = lo; slider.max = hi; slider.step = 1; slider.value = o.levels[a.name];
      slider.id = id + "-slider"; slider.setAttribute("aria-label", a.label + " " + T.slider);
      num.type = "number"; num.min = lo; num.max = hi; num.step = 1; num.value = o.levels[a.name]; num.id = id;
      slider.addEventListener("input", function () { num.value = slider.value; o.levels[a.name] = Number(slider.value); render(); });
      num.addEventListener("change", function () {
        var v = Math.min(hi, Math.max(lo, Number(num.value) || lo));
        num.value = v; slider.value = v; o.levels[a.name] = v; render();
      });
      card.appendChild(slider); card.appendChild(num);
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
  function buildControls() {
    var holder = document.getElementById("sim-offers");
    holder.innerHTML = "";
    offers.forEach(function (o) {
      var card = document.createElement("div");
      card.className = "sim-offer" + (o.ours ? " ours" : "");
      card.id = idx(o.name);
      var head = document.createElement("h3"), on = document.createElement("input"), onLabel = document.createElement("label");
      on.type = "checkbox"; on.checked = o.on; on.id = idx(o.name) + "-on"; on.setAttribute("aria-label", T.in_market);
      on.addEventListener("change", function () { o.on = on.checked; render(); });
      onLabel.htmlFor = on.id; onLabel.className = "sim-offer-name"; onLabel.textContent = o.name + (o.ours ? T.ours : "");
      head.appendChild(on); head.appendChild(document.createTextNode(" ")); head.appendChild(onLabel);
      card.appendChild(head);
      D.attributes.forEach(function (a) { control(o, a, card); });
      var warn = document.createElement("div"); warn.className = "warn"; warn.id = idx(o.name) + "-warn";
      card.appendChild(warn);
      holder.appendChild(card);
    });
    var fx = document.getElementById("sim-fixed");
    fx.innerHTML = "";
    D.fixed.forEach(function (f, i) {
      var lab = document.createElement("label"), box = document.createElement("input");
      box.type = "checkbox"; box.checked = fixedOn[i]; box.id = idx(f.name) + "-on";
      box.addEventListener("change", function () { fixedOn[i] = box.checked; render(); });
      lab.appendChild(box); lab.appendChild(document.createTextNode(" " + f.label + "  "));
      fx.appendChild(lab);
    });
    var segSelect = document.getElementById("sim-segment");
    if (segSelect) { segSelect.value = segment ? segment.key : ""; }
  }
  // -- the segment filter: latent classes, and profile answers (individual-level fits) ----
  var segBox = document.getElementById("sim-segment-box");
  var hasClasses = SEG && SEG.labels.length > 1;
  if (segBox && (hasClasses || FIL.length)) {
    var segSelect = document.getElementById("sim-segment");
    function option(parent, value, text) {
      var op = document.createElement("option"); op.value = value; op.textContent = text;
      parent.appendChild(op);
    }
    function massOf(codes, n) {
      var mass = []; for (var g = 0; g < n; g++) { mass.push(0); }
      allWeights.rows.forEach(function (w, i) { if (codes[i] >= 0) { mass[codes[i]] += w; } });
      return mass;
    }
    option(segSelect, "", T.whole_market);
    if (hasClasses) {
      var mass = massOf(SEG.rows, SEG.labels.length);
      SEG.labels.forEach(function (label, g) { option(segSelect, label, fill(T.segment, { n: g + 1, share: percent(mass[g]) })); });
    }
    FIL.forEach(function (f) {
      var own = T.filters[f.question] || {};
      var labels = own.labels && own.labels.length === f.options.length ? own.labels : f.labels;
      var group = document.createElement("optgroup");
      group.label = own.label || f.label;
      var m = f.mass || massOf(f.rows, f.options.length);
      f.options.forEach(function (name, g) {
        option(group, f.question + "=" + name, fill(T.filter_option, { label: labels[g], share: percent(m[g]) }));
      });
      segSelect.appendChild(group);
    });
    segSelect.addEventListener("change", function () { setSegment(segSelect.value); render(); });
    segBox.hidden = false;
  } else if (segBox && D.filters_unavailable) {
    // The study asked who people are, but the fit has no one's own part-worths (mixed
    // logit, MNL): say so instead of offering nothing without a word.
    segBox.querySelectorAll("label, select").forEach(function (el) { el.hidden = true; });
    var why = document.createElement("p");
    why.className = "note"; why.id = "sim-segment-unavailable"; why.textContent = T.filter_unavailable;
    segBox.appendChild(why);
    segBox.hidden = false;
  }
  // -- export: the table as CSV (the server writes it, formula-safe) and as a PNG ---------
  function exportRows() {
    var rows = [];
    document.querySelectorAll("#sim-shares .bar, #sim-ours .bar").forEach(function (row) {
      var out = { alternative: row.getAttribute("data-alternative") };
      ["share", "lower", "upper", "revenue", "revenue-lower", "revenue-upper", "margin", "profit",
       "profit-lower", "profit-upper", "delta-share", "delta-profit", "delta-revenue"].forEach(function (k) {
        var v = row.getAttribute("data-" + k);
        out[k.replace(/-/g, "_")] = v === null ? null : Number(v);
      });
      rows.push(out);
    });
    return rows;
  }
  function drawPng() {
    var rows = document.querySelectorAll("#sim-shares .bar, #sim-ours .bar"), scale = 2;
    var width = 1000, rowH = 34, top = 90, height = top + rowH * rows.length + 30;
    var moneyKey = D.costs ? "profit" : "revenue";
    var canvas = document.createElement("canvas");
    canvas.width = width * scale; canvas.height = height * scale;
    var g = canvas.getContext("2d");
    g.scale(scale, scale);
    g.fillStyle = "#ffffff"; g.fillRect(0, 0, width, height);
    g.fillStyle = "#1a202c"; g.font = "bold 18px sans-serif";
    g.fillText(T.title || "", 16, 30);
    g.font = "13px sans-serif"; g.fillStyle = "#4a5568";
    g.fillText((T.scenario_label || "") + (baseState ? "  –  " + (T.compare_label || "") : ""), 16, 52);
    g.fillText(T.share, 630, 80);
    g.fillText(D.costs ? T.profit : T.revenue, 720, 80);
    if (baseState) { g.fillText("±", 880, 80); }
    rows.forEach(function (row, i) {
      var y = top + i * rowH, share = Number(row.getAttribute("data-share"));
      var name = row.querySelector(".name").textContent;
      g.fillStyle = "#1a202c"; g.font = (row.classList.contains("sim-ours") ? "bold " : "") + "14px sans-serif";
      g.fillText(name.length > 30 ? name.slice(0, 29) + "…" : name, 16, y + 20);
      g.fillStyle = "#edf2f7"; g.fillRect(260, y + 6, 360, 18);
      g.fillStyle = row.querySelector(".fill.other") ? "#a0aec0" : "#2b6cb0";
      g.fillRect(260, y + 6, 360 * Math.max(0, Math.min(1, share)), 18);
      var lo = row.getAttribute("data-lower"), hi = row.getAttribute("data-upper");
      if (lo !== null) { g.fillStyle = "#1a202c"; g.fillRect(260 + 360 * Number(lo), y + 14, 360 * (Number(hi) - Number(lo)), 2); }
      g.fillStyle = "#1a202c"; g.font = "14px sans-serif";
      g.fillText(percent(share), 630, y + 20);
      var amount = row.getAttribute("data-" + moneyKey);
      if (amount !== null) { g.fillText(money(Number(amount)), 720, y + 20); }
      var ds = row.getAttribute("data-delta-share");
      if (ds !== null) { g.fillText(points(Number(ds)), 880, y + 20); }
    });
    return canvas;
  }
  function download(href, name) {
    var a = document.createElement("a");
    a.href = href; a.download = name; document.body.appendChild(a); a.click(); a.remove();
  }
  var pngButton = document.getElementById("sim-export-png");
  if (pngButton) {
    pngButton.addEventListener("click", function () {
      drawPng().toBlob(function (blob) {
        var url = URL.createObjectURL(blob);
        download(url, (T.file_name || "scenario") + ".png");
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      }, "image/png");
    });
  }
  var csvForm = document.getElementById("sim-export-form");
  if (csvForm) {
    csvForm.addEventListener("submit", function () {
      csvForm.elements.rows.value = JSON.stringify(exportRows());
      csvForm.elements.name.value = T.scenario_label || "";
    });
  }
  // -- saved scenarios (the console: a list per study, saved and read over fetch) --------
  var scen = document.getElementById("sim-scenarios"), saved = [];
  var status = document.getElementById("sim-scenario-status");
  function say(text) { if (status) { status.textContent = text; } }
  function fillLists() {
    var list = document.getElementById("sim-scenario-list"), compare = document.getElementById("sim-compare");
    var keepList = list.value, keepCompare = compare.value;
    list.innerHTML = ""; compare.innerHTML = "";
    var none = document.createElement("option"); none.value = ""; none.textContent = T.no_comparison;
    compare.appendChild(none);
    var pub = document.createElement("option"); pub.value = "published"; pub.textContent = T.published_market;
    compare.appendChild(pub);
    var start = document.createElement("option"); start.value = "published"; start.textContent = T.published_market;
    list.appendChild(start);
    saved.forEach(function (s) {
      var a = document.createElement("option"); a.value = String(s.id); a.textContent = s.name; list.appendChild(a);
      var b = document.createElement("option"); b.value = String(s.id); b.textContent = s.name; compare.appendChild(b);
    });
    if (keepList && list.querySelector('option[value="' + keepList + '"]')) { list.value = keepList; }
    if (compare.querySelector('option[value="' + keepCompare + '"]')) { compare.value = keepCompare; }
  }
  function stateOf(value) {
    if (value === "published") { return published; }
    var found = saved.filter(function (s) { return String(s.id) === value; })[0];
    return found ? found.state : null;
  }
  function loadList(then) {
    fetch(T.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) { saved = body.scenarios; fillLists(); if (then) { then(); } })
      .catch(function () { say(T.scenario_failed); });
  }
  function post(url, fields) {
    var body = new URLSearchParams();
    body.set("csrf", T.csrf);
    Object.keys(fields).forEach(function (k) { body.set(k, fields[k]); });
    return fetch(url, { method: "POST", credentials: "same-origin", body: body,
                        headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (b) { return r.ok ? b : Promise.reject(b.error || T.scenario_failed); }); });
  }
  if (scen && T.api) {
    var current = T.published_market;
    T.scenario_label = current;
    document.getElementById("sim-scenario-load").addEventListener("click", function () {
      var list = document.getElementById("sim-scenario-list"), state = stateOf(list.value);
      if (!state) { return; }
      setState(state); buildControls(); render();
      current = list.options[list.selectedIndex].textContent;
      T.scenario_label = current;
      document.getElementById("sim-scenario-name").value = list.value === "published" ? "" : current;
      say(fill(T.scenario_loaded, { name: current }));
    });
    document.getElementById("sim-scenario-save").addEventListener("click", function (event) {
      event.preventDefault();
      var name = document.getElementById("sim-scenario-name").value.trim();
      if (!name) { say(T.scenario_needs_name); document.getElementById("sim-scenario-name").focus(); return; }
      post(T.api, { name: name, state: JSON.stringify(getState()) })
        .then(function (body) {
          T.scenario_label = name;
          loadList(function () { document.getElementById("sim-scenario-list").value = String(body.id); });
          say(fill(T.scenario_saved, { name: name }));
        })
        .catch(function (error) { say(String(error)); });
    });
    document.getElementById("sim-scenario-delete").addEventListener("click", function () {
      var list = document.getElementById("sim-scenario-list");
      if (list.value === "published" || !list.value) { return; }
      var name = list.options[list.selectedIndex].textContent;
      post(T.api + "/" + list.value + "/delete", {})
        .then(function () { loadList(); say(fill(T.scenario_deleted, { name: name })); })
        .catch(function (error) { say(String(error)); });
    });
    document.getElementById("sim-compare").addEventListener("change", function (event) {
      baseState = stateOf(event.target.value);
      T.compare_label = event.target.options[event.target.selectedIndex].textContent;
      render();
    });
    loadList();
  }
  var note = document.getElementById("sim-interval-note");
  if (note) { note.textContent = W ? intervalNote() : T.point_only; }
  // Which draws the page's intervals come from: all of them, the first n of every person,
  // or n draws of some of the people (wider than the report's); W.note when untranslated.
  function intervalNote() {
    var count = new Intl.NumberFormat(T.locale, { maximumFractionDigits: 0 });
    var text = W.rows < W.of_rows ? T.interval_note_people : (W.n < W.of_draws ? T.interval_note_first : T.interval_note);
    if (!text) { return W.note; }
    return fill(text, { p: Math.round(100 * W.interval), n: count.format(W.n), all: count.format(W.of_draws),
      rows: count.format(W.rows), people: count.format(W.of_rows) });
  }
  setSegment(null);
  buildControls();
  render();
}());
