// channelflow dashboard: reads the JSON API (see /api/openapi.json) and polls it.
// Plain JavaScript, no build step; charts by the vendored Chart.js UMD build.
"use strict";

(() => {
  const TOKEN_KEY = "channelflow.token";
  const REFRESH_MS = Number(document.body.dataset.refreshMs) || 3000;
  const PAGE_SIZE = 1000;
  const REJECTED_SHOWN = 10; // latest rejected lines in the data-quality panel
  const VIOLATIONS_SHOWN = 50;
  const $ = (id) => document.getElementById(id);

  const state = {
    charts: {},
    distributors: new Set(),
    severity: null, // the severity whose violations are listed (null: all)
    violationId: null, // the violation whose detail is open
    refreshes: 0,
    shown: {}, // section -> the JSON it was last rendered from
    // what the rejected lines are re-read on (they come from the dead-letter topic, so
    // only when a count of rejections moved): the quality rows and the dead-letter total
    rejectionCounts: { quality: null, deadLetters: null },
    partial: "", // what this worker's reads leave out of the channel ("" = nothing)
    scorecardOf: null, // the distributor whose scorecard is open (null: none)
  };

  // --- HTTP --------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      super(body && body.error ? body.error.message : `HTTP ${status}`);
      this.status = status;
    }
  }

  function authorized(headers) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  async function answerOf(response) {
    if (!response.ok) throw await refusal(response);
    return response.json().catch(() => null);
  }

  /** The error of a response that is not ok, with the API's message when it sent one. */
  async function refusal(response) {
    return new ApiError(response.status, await response.json().catch(() => null));
  }

  async function api(path, params = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") query.set(key, value);
    }
    const url = query.toString() ? `${path}?${query}` : path;
    const headers = authorized({ Accept: "application/json" });
    return answerOf(await fetch(url, { headers, cache: "no-store" }));
  }

  /** POST a JSON body (a step someone takes, such as confirming a match). */
  async function send(path, body) {
    const headers = authorized({ Accept: "application/json", "Content-Type": "application/json" });
    return answerOf(await fetch(path, { method: "POST", headers, body: JSON.stringify(body) }));
  }

  /** Every row of a paginated list endpoint, page by page, and the first page (for what
   *  an answer says beside its rows). */
  async function allPages(path, params = {}) {
    let rows = [];
    let first = null;
    for (let offset = 0; ; ) {
      const page = await api(path, { ...params, limit: PAGE_SIZE, offset });
      first = first || page;
      rows = rows.concat(page.rows);
      offset += page.rows.length;
      if (offset >= page.total || page.rows.length === 0) return { rows, first };
    }
  }

  async function allRows(path, params = {}) {
    return (await allPages(path, params)).rows;
  }

  // --- numbers (money arrives as decimal strings; summed exactly, never as floats) -----

  function addDecimals(values) {
    const present = values.filter((v) => v !== null && v !== undefined);
    if (present.length === 0) return null;
    const scale = Math.max(...present.map((v) => (String(v).split(".")[1] || "").length));
    let total = 0n;
    for (const value of present) {
      const [whole, fraction = ""] = String(value).split(".");
      const digits = BigInt(whole.replace("-", "") + fraction.padEnd(scale, "0"));
      total += whole.startsWith("-") ? -digits : digits;
    }
    const negative = total < 0n;
    const text = (negative ? -total : total).toString().padStart(scale + 1, "0");
    const joined = scale ? `${text.slice(0, -scale)}.${text.slice(-scale)}` : text;
    return (negative ? "-" : "") + joined;
  }

  /** A number or decimal string with thousands separators; "–" for none. */
  function grouped(value) {
    if (value === null || value === undefined) return "–";
    const [whole, fraction] = String(value).split(".");
    const digits = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return fraction === undefined ? digits : `${digits}.${fraction}`;
  }

  /** An amount with its currency ("213,911.49 USD"); "–" for none. Without a currency the
   *  amount adds up several (an inventory valued at costs in different currencies). */
  function money(value, currency) {
    if (value === null || value === undefined) return "–";
    return `${grouped(value)} ${currency || "(mixed currencies)"}`;
  }

  /** Amounts of rows added up per currency: "3,605.24 USD" or "1,200.00 EUR + 3,605.24 USD". */
  function moneyTotals(rows, amountField) {
    const byCurrency = new Map();
    for (const row of rows) {
      const amounts = byCurrency.get(row.currency) || [];
      amounts.push(row[amountField]);
      byCurrency.set(row.currency, amounts);
    }
    const totals = [...byCurrency.keys()].sort()
      .map((currency) => [addDecimals(byCurrency.get(currency)), currency])
      .filter(([total]) => total !== null);
    return totals.length ? totals.map(([total, currency]) => money(total, currency)).join(" + ") : "–";
  }

  function percent(rate) {
    if (rate === null || rate === undefined) return "–";
    return `${(Number(rate) * 100).toLocaleString("en-US", { maximumFractionDigits: 3 })} %`;
  }

  // --- DOM helpers -------------------------------------------------------------------

  /** An element with attributes and children (text is always set as text, never as HTML). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else if (key === "onclick") node.addEventListener("click", value);
      else node[key] = value;
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Whether `data` differs from what section `key` last showed (re-rendering unchanged
   *  rows every few seconds would swallow clicks and lose the hover). */
  function changed(key, data) {
    const text = JSON.stringify(data);
    if (state.shown[key] === text) return false;
    state.shown[key] = text;
    return true;
  }

  function cell(field, text) {
    return el("td", { "data-field": field }, text);
  }

  /** A table row about one distributor, which the distributor picker then offers. */
  function distributorRow(id, ...cells) {
    state.distributors.add(id);
    return el("tr", { "data-distributor": id }, cell("distributor_id", id), ...cells);
  }

  function showEmpty(id, empty) {
    $(id).hidden = !empty;
  }

  function chart(id, config) {
    if (!window.Chart) return null; // the page still shows every number without charts
    if (!state.charts[id]) state.charts[id] = new window.Chart($(id), config);
    return state.charts[id];
  }

  function setChartData(id, type, labels, datasets) {
    const existing = chart(id, {
      type,
      data: { labels, datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true } },
      },
    });
    if (!existing) return;
    existing.data.labels = labels;
    existing.data.datasets.forEach((dataset, index) => {
      dataset.data = datasets[index].data;
    });
    existing.update("none");
  }

  // --- sections ----------------------------------------------------------------------

  function filters() {
    return { distributor_id: $("distributor").value };
  }

  async function loadInventory() {
    const page = await api("/api/inventory/summary", { ...filters(), limit: 10000 });
    if (!changed("inventory", page)) return;
    const body = $("inventory-rows");
    body.replaceChildren(
      ...page.rows.map((row) => {
        const most = row.top_by_weeks_of_supply[0];
        return distributorRow(
          row.distributor_id,
          cell("skus", grouped(row.skus)),
          cell("expected_on_hand", grouped(row.expected_on_hand)),
          cell("value", money(row.value, row.currency)),
          cell("sold_last_4_weeks", grouped(row.sold_last_4_weeks)),
          cell("weeks_of_supply", grouped(row.weeks_of_supply)),
          cell("most_supply", most && most.weeks_of_supply ? `${most.sku} · ${most.weeks_of_supply}` : "–"),
        );
      }),
    );
    showEmpty("inventory-empty", page.rows.length === 0);
    const channel = page.channel;
    $("kpi-on-hand").textContent = grouped(channel.expected_on_hand);
    $("kpi-value").textContent = money(channel.value, channel.currency);
    $("kpi-weeks").textContent = grouped(channel.weeks_of_supply);
    updateDistributorChoices();
  }

  /** The value of the stock held over 90 days (first in, first out), per currency. */
  async function loadAging() {
    const page = await api("/api/inventory/aging", { ...filters(), limit: 10000 });
    if (!changed("aging", page)) return;
    const aged = page.rows.map((row) => ({ currency: row.currency, aged: row.values[">90"] }));
    $("kpi-aged").textContent = moneyTotals(aged, "aged");
  }

  /** What the stock breaks of each distributor's agreement in effect: targets, ages. */
  async function loadObligations() {
    const page = await api("/api/obligations", { ...filters(), limit: 1000 });
    if (!changed("obligations", page)) return;
    $("obligation-rows").replaceChildren(
      ...page.rows.map((row) => {
        const over = row.kind === "over_stock";
        const detail = over
          ? `${grouped(row.weeks_of_supply ?? "∞")} weeks of supply, target ${row.target_weeks}`
          : `older than ${row.max_age_days} days`;
        const tr = distributorRow(
          row.distributor_id,
          cell("kind", over ? "over-stock" : "over-age"),
          cell("ref", row.scope === "group" ? `group ${row.ref}` : row.ref),
          cell("units", grouped(over ? row.excess_units : row.units)),
          cell("detail", detail),
          cell("value", money(row.value, row.currency)),
        );
        tr.dataset.key = `${row.distributor_id}|${row.kind}|${row.ref}`;
        return tr;
      }),
    );
    showEmpty("obligations-empty", page.rows.length === 0);
    $("obligations-note").textContent = page.total > page.rows.length
      ? `${page.rows.length} of ${page.total} shown`
      : "";
  }

  /** Each distributor's volume commitments: the current and the previous periods. */
  async function loadCommitments() {
    const page = await api("/api/commitments", { ...filters(), limit: 1000 });
    if (!changed("commitments", page)) return;
    $("commitment-rows").replaceChildren(
      ...page.rows.map((row) => {
        const unit = row.currency ? ` ${row.currency}` : "";
        const gaps = row.unconverted.map((g) => `${g.amount} ${g.currency}`).join(", ");
        const status = row.status + (row.shortfall === null ? "" : ` by ${row.shortfall}${unit}`)
          + (gaps ? ` (unconverted: ${gaps})` : "");
        const tr = distributorRow(
          row.distributor_id,
          cell("period", row.closed ? row.period : `${row.period} (open)`),
          cell("commitment", `${row.basis.replace("_", "-")} ${row.measure}`),
          cell("minimum", `${row.minimum}${unit}`),
          cell("volume", row.volume === null ? "–" : `${row.volume}${unit}`),
          cell("progress", row.progress ?? "–"),
          cell("status", status),
        );
        tr.dataset.key = `${row.distributor_id}|${row.period}|${row.basis}|${row.measure}`;
        return tr;
      }),
    );
    showEmpty("commitments-empty", page.rows.length === 0);
  }

  /** Stock rotation requests: their status, units asked back, value and reasons. */
  async function loadRotations() {
    const page = await api("/api/rotations", { ...filters(), limit: 1000 });
    if (!changed("rotations", page)) return;
    $("rotation-rows").replaceChildren(
      ...page.rows.map((row) => {
        const units = Object.values(row.returns).reduce((sum, n) => sum + n, 0);
        const tr = distributorRow(
          row.distributor_id,
          cell("request_id", row.request_id),
          cell("status", row.status),
          cell("units", grouped(units)),
          cell("value", money(row.return_value, row.currency)),
          cell("reasons", row.reasons.join(", ") || "–"),
        );
        tr.dataset.key = `${row.distributor_id}|${row.request_id}`;
        return tr;
      }),
    );
    showEmpty("rotations-empty", page.rows.length === 0);
    $("rotations-note").textContent = page.total > page.rows.length
      ? `${page.rows.length} of ${page.total} shown`
      : "";
  }

  /** Debit claims: claimed vs accepted per currency, the reasons of their lines over all
   *  of them, and each claim with its lines by status. */
  async function loadClaims() {
    const page = await api("/api/claims", { ...filters(), limit: 1000 });
    if (!changed("claims", page)) return;
    const counted = (counts) => Object.entries(counts).map(([name, n]) => `${n} ${name}`).join(", ");
    const reasons = {};
    for (const row of page.rows) {
      for (const [reason, n] of Object.entries(row.reasons)) reasons[reason] = (reasons[reason] || 0) + n;
    }
    const byCount = Object.fromEntries(Object.entries(reasons).sort((a, b) => b[1] - a[1]));
    $("claims-totals").textContent = page.rows.length
      ? `claimed ${moneyTotals(page.rows, "total_claimed")}, ` +
        `accepted ${moneyTotals(page.rows, "total_accepted")}`
      : "";
    $("claims-reasons").textContent = Object.keys(byCount).length
      ? `rejected or adjusted lines: ${counted(byCount)}`
      : "";
    $("claim-rows").replaceChildren(
      ...page.rows.map((row) => {
        const tr = distributorRow(
          row.distributor_id,
          cell("claim_id", row.claim_id),
          cell("status", row.status),
          cell("lines", counted(row.lines_by_status) || "–"),
          cell("total_claimed", money(row.total_claimed, row.currency)),
          cell("total_accepted", money(row.total_accepted, row.currency)),
          cell("reasons", counted(row.reasons) || "–"),
        );
        tr.dataset.key = `${row.distributor_id}|${row.claim_id}`;
        return tr;
      }),
    );
    showEmpty("claims-empty", page.rows.length === 0);
    $("claims-note").textContent = page.total > page.rows.length
      ? `${page.rows.length} of ${page.total} shown (the totals are theirs)`
      : "";
  }

  /** Authorizations near their cap or expiry (the thresholds are the server's settings):
   *  each with its cap given out and the days it has left. */
  async function loadNearAuthorizations() {
    const page = await api("/api/authorizations/usage", { ...filters(), limit: 1000 });
    if (!changed("claims-near", page)) return;
    const flagged = page.rows.filter((row) => row.near.length > 0);
    const orDash = (value, text) => (value === null ? "–" : text);
    $("claims-near-rows").replaceChildren(
      ...flagged.map((row) => {
        const tr = distributorRow(
          row.distributor_id,
          cell("authorization_id", row.authorization_id),
          cell("percent_used", orDash(row.percent_used, `${row.percent_used} % of ${row.quantity_cap}`)),
          cell("units_left", orDash(row.units_left, grouped(row.units_left || 0))),
          cell("valid_to", row.valid_to),
          cell("days_left", orDash(row.days_left, String(row.days_left))),
          cell("near", row.near.join(", ")),
        );
        tr.dataset.key = `${row.authorization_id}|${row.distributor_id}`;
        return tr;
      }),
    );
    $("claims-near").hidden = flagged.length === 0;
  }

  /** The match queue (the vendor's roles; hidden for a distributor's token): each open
   *  proposal with its candidates, confirmed or rejected with the reason typed above. */
  async function loadMatchQueue() {
    let page;
    try {
      page = await api("/api/resellers/proposals", { ...filters(), status: "open", limit: 1000 });
    } catch (error) {
      if (error.status !== 403) throw error;
      page = null;
    }
    if (!changed("match-queue", page)) return;
    $("match-queue").hidden = page === null;
    if (page === null) return;
    $("match-rows").replaceChildren(...page.rows.map(matchRow));
    showEmpty("match-empty", page.rows.length === 0);
  }

  function matchRow(row) {
    const best = row.candidates[0];
    const tr = distributorRow(
      row.distributor_id,
      cell("alias_id", row.alias_id),
      cell("proposed_at", row.proposed_at.slice(0, 10)),
      cell("candidates", row.candidates.map((c) => `${c.master_id} ${c.score}`).join(", ") || "–"),
      cell("reasons", best ? best.reasons.join("; ") : "–"),
    );
    tr.append(el("td", { class: "actions" },
      el("button", { type: "button", class: "confirm", onclick: () => decideMatch(row, "confirm") },
        best ? `Confirm ${best.master_id}` : "Confirm"),
      el("button", { type: "button", class: "reject", onclick: () => decideMatch(row, "reject") },
        "Reject")));
    tr.dataset.key = `${row.distributor_id}|${row.alias_id}`;
    return tr;
  }

  /** The reseller masters (the vendor's roles; hidden for a distributor's token), each with
   *  the aliases that mean it now: a page of them, as the API pages them. */
  async function loadMasters() {
    let page;
    try {
      page = await api("/api/resellers/masters", { limit: 1000 });
    } catch (error) {
      if (error.status !== 403) throw error;
      page = null;
    }
    if (!changed("masters", page)) return;
    $("masters").hidden = page === null;
    if (page === null) return;
    $("master-rows").replaceChildren(
      ...page.rows.map((row) => {
        const tr = el("tr", {},
          cell("master_id", row.master_id),
          cell("legal_name", row.legal_name),
          cell("country", row.country),
          cell("aliases", row.aliases.join(", ") || "–"));
        tr.dataset.key = row.master_id;
        return tr;
      }),
    );
    showEmpty("masters-empty", page.rows.length === 0);
    $("masters-note").textContent = page.total > page.rows.length
      ? `${page.rows.length} of ${page.total} shown`
      : "";
  }

  async function decideMatch(row, action) {
    const reason = $("match-reason").value.trim();
    const note = $("match-note");
    if (!reason) {
      note.textContent = "Enter a reason first: the alias history keeps it.";
      return;
    }
    const where = [row.distributor_id, row.alias_id].map(encodeURIComponent).join("/");
    try {
      const answer = await send(`/api/resellers/proposals/${where}/${action}`, { reason });
      note.textContent = action === "confirm"
        ? `${row.alias_id} of ${row.distributor_id} confirmed as ${answer.master_id}`
        : `${row.alias_id} of ${row.distributor_id} rejected`;
      delete state.shown["match-queue"];
      await loadMatchQueue();
    } catch (error) {
      note.textContent = `not done: ${error.message}`;
    }
  }

  async function loadSellThrough() {
    const { rows, first } = await allPages("/api/sell-through", {
      ...filters(),
      granularity: $("granularity").value,
    });
    const partial = first.partial_period;
    const periods = new Map();
    for (const row of rows) {
      const totals = periods.get(row.period) || { sellIn: 0, sellThrough: 0 };
      totals.sellIn += row.sell_in;
      totals.sellThrough += row.sell_through;
      periods.set(row.period, totals);
    }
    const periodKeys = [...periods.keys()].sort();
    if (!changed("sell-through", [partial, ...periods])) return;
    // the period still running is drawn dashed and labelled: its drop is no fall
    const labels = periodKeys.map((p) => (p === partial ? `${p} (partial)` : p));
    const dashedInto = labels.indexOf(`${partial} (partial)`);
    setChartData("sell-through-chart", "line", labels, [
      { label: "sell-in", data: periodKeys.map((p) => periods.get(p).sellIn), borderColor: "#2f6fdf", backgroundColor: "#2f6fdf" },
      { label: "sell-through", data: periodKeys.map((p) => periods.get(p).sellThrough), borderColor: "#e06a00", backgroundColor: "#e06a00" },
    ]);
    const existing = state.charts["sell-through-chart"];
    if (existing) {
      for (const dataset of existing.data.datasets) {
        dataset.segment = { borderDash: (ctx) => (ctx.p1DataIndex === dashedInto ? [6, 4] : undefined) };
      }
      existing.update("none");
    }
    $("sell-through-note").textContent = dashedInto >= 0
      ? `${partial} is still running: its totals so far, drawn dashed`
      : "";
    showEmpty("sell-through-empty", labels.length === 0);
  }

  /** How far a row still is from its next tier, as a share of that tier's threshold
   *  (Infinity once the top tier is reached: nothing left to act on). */
  function shareToGo(row) {
    return row.next_threshold === null ? Infinity : Number(row.gap_to_next) / Number(row.next_threshold);
  }

  async function loadRebates() {
    const rows = await allRows("/api/rebates", { ...filters(), status: "open" });
    if (!changed("rebates", rows)) return;
    const actionable = [...rows].sort((a, b) => shareToGo(a) - shareToGo(b));
    const short = rows.filter((row) => row.next_threshold !== null).length;
    $("rebates-note").textContent = rows.length
      ? `${rows.length} open periods, ${short} short of a next tier: the closest first`
      : "";
    $("rebate-rows").replaceChildren(
      ...actionable.map((row) => {
        const key = `${row.program_id}|${row.distributor_id}|${row.period}`;
        const top = row.next_threshold === null;
        const share = top ? 1 : Math.max(0, 1 - Number(row.gap_to_next) / Number(row.next_threshold));
        const volume = (value) =>
          row.measure === "revenue" ? money(value, row.currency) : `${grouped(value)} units`;
        const gap = top
          ? "top tier reached"
          : `${volume(row.gap_to_next)} to the next tier (at ${volume(row.next_threshold)})`;
        // the agreement versions that bound the program (none: the program's own list)
        const bound = row.bound_by.length ? ` · under ${row.bound_by.join(", ")}` : "";
        return el(
          "div",
          { class: "rebate", "data-key": key },
          el(
            "div",
            { class: "head" },
            el("span", { class: "bound", title: "agreement versions binding the program" },
              `${row.program_id} · ${row.distributor_id} · ${row.period}${bound}`),
            el("span", {}, "accrued ", el("strong", { class: "accrued" }, money(row.rebate, row.currency)), ` at ${percent(row.tier_rate)}`),
          ),
          el("div", { class: "bar", title: `${Math.round(share * 100)} % of the way` },
            el("div", { class: top ? "fill top" : "fill", style: `width: ${(share * 100).toFixed(1)}%` })),
          el("div", { class: "gap" }, gap),
        );
      }),
    );
    showEmpty("rebates-empty", rows.length === 0);
    $("kpi-rebate").textContent = moneyTotals(rows, "rebate");
  }

  async function loadViolations() {
    const summary = await api("/api/violations/summary", filters());
    if (changed("severities", [summary, state.severity])) renderSeverities(summary);
    const page = await api("/api/violations", {
      ...filters(),
      severity: state.severity,
      limit: VIOLATIONS_SHOWN,
    });
    if (changed("violations", page)) renderViolations(page);
    if (state.violationId) await loadViolationDetail();
  }

  function renderSeverities(summary) {
    $("severity-counts").replaceChildren(
      ...summary.rows.map((row) =>
        el(
          "button",
          {
            type: "button",
            class: `severity ${row.severity}${state.severity === row.severity ? " active" : ""}`,
            "data-severity": row.severity,
            title: Object.entries(row.by_status).map(([s, n]) => `${s}: ${n}`).join(", "),
            onclick: () => {
              state.severity = state.severity === row.severity ? null : row.severity;
              loadViolations().catch(report);
            },
          },
          el("span", { class: "count" }, String(row.count)),
          row.severity,
        ),
      ),
    );
    $("kpi-violations").textContent = grouped(summary.rows.reduce((sum, row) => sum + row.count, 0));
  }

  function renderViolations(page) {
    $("violation-rows").replaceChildren(
      ...page.rows.map((row) =>
        el(
          "tr",
          {
            class: `clickable${row.violation_id === state.violationId ? " selected" : ""}`,
            "data-violation": row.violation_id,
            onclick: () => {
              state.violationId = row.violation_id;
              for (const tr of $("violation-rows").children) {
                tr.classList.toggle("selected", tr.dataset.violation === row.violation_id);
              }
              loadViolationDetail().catch(report);
            },
          },
          cell("sold_at", row.sold_at.replace("T", " ").replace("Z", "")),
          cell("distributor_id", row.distributor_id),
          cell("reseller_id", row.reseller_id),
          cell("sku", row.sku),
          cell("unit_price", money(row.unit_price, row.currency)),
          cell("floor_price", money(row.floor_price, row.currency)),
          cell("status", row.status),
        ),
      ),
    );
    const which = state.severity ? `${state.severity} violations` : "violations";
    const box = $("violation-rows").closest(".scroll");
    const scrolls = box.scrollHeight > box.clientHeight;
    const listed = page.rows.length < page.total
      ? `the first ${page.rows.length} of ${page.total} ${which} listed (pick a severity or a distributor for the others)`
      : `all ${page.total} ${which} listed`;
    $("violation-list-note").textContent = scrolls ? `${listed}; scroll the table to see them` : listed;
  }

  async function loadViolationDetail() {
    const box = $("violation-detail");
    const found = await api(`/api/violations/${encodeURIComponent(state.violationId)}`);
    if (!changed("violation-detail", found) && !box.hidden) return;
    const pairs = (entries) =>
      el("dl", {}, ...entries.flatMap(([label, value, field]) => [
        el("dt", {}, label),
        el("dd", { "data-field": field }, value === null || value === undefined ? "–" : String(value)),
      ]));
    const sale = found.sale;
    box.replaceChildren(
      el("h3", {}, `Violation ${found.violation_id} — ${found.severity}, ${found.status}`),
      pairs([
        ["Distributor", found.distributor_id, "distributor_id"],
        ["Transaction", sale.transaction_id, "transaction_id"],
        ["Reseller", sale.reseller_id, "reseller_id"],
        ["SKU", sale.sku, "sku"],
        ["Sold at", sale.sold_at, "sold_at"],
        ["Quantity", sale.quantity, "quantity"],
        ["Unit price", money(sale.unit_price, sale.currency), "unit_price"],
        ["Floor price", `${money(found.price.floor_price, sale.currency)} (${found.price.scope} price)`, "floor_price"],
        ["Sale event", sale.event_id, "event_id"],
        ["Resolution", found.resolution, "resolution"],
      ]),
      el("h3", {}, "Lifecycle"),
      found.steps.length
        ? el("ol", {}, ...found.steps.map((step) =>
            el("li", {}, `${step.at}: ${step.action} by ${step.actor} (${step.role}) — ${step.reason}`)))
        : el("p", { class: "hint" }, "detected; nobody has acted on it yet"),
      el("button", { type: "button", onclick: closeViolationDetail }, "Close"),
    );
    box.hidden = false;
  }

  function closeViolationDetail() {
    state.violationId = null;
    $("violation-detail").hidden = true;
    for (const tr of $("violation-rows").children) tr.classList.remove("selected");
  }

  async function loadResellers() {
    let rows;
    let growth;
    try {
      [rows, growth] = await Promise.all([
        allRows("/api/resellers", filters()),
        allRows("/api/resellers/growth", filters()),
      ]);
    } catch (error) {
      if (error.status !== 404) throw error;
      [rows, growth] = [[], []]; // a server without the reseller projection: empty state
    }
    if (!changed("resellers", [rows, growth])) return;
    $("reseller-rows").replaceChildren(
      ...rows.map((row) =>
        distributorRow(
          row.distributor_id,
          cell("onboarded", grouped(row.onboarded)),
          cell("active_90d", grouped(row.active_90d)),
          cell("new_this_quarter", grouped(row.new_this_quarter)),
          cell("not_onboarded", grouped(row.not_onboarded)),
        ),
      ),
    );
    const empty = rows.length === 0;
    showEmpty("resellers-empty", empty);
    $("resellers-table").hidden = empty;
    $("resellers-chart-box").hidden = growth.length === 0;
    const months = growth.map((row) => row.month);
    setChartData("resellers-chart", "line", months, [
      { label: "onboarded (total)", data: growth.map((r) => r.onboarded_total), borderColor: "#9bb7ee", backgroundColor: "#9bb7ee" },
      { label: "selling (total)", data: growth.map((r) => r.selling_total), borderColor: "#2e9d57", backgroundColor: "#2e9d57" },
    ]);
  }

  async function loadQuality() {
    const rows = await allRows("/api/quality", filters());
    state.rejectionCounts.quality = rows;
    if (!changed("quality", rows)) return;
    $("quality-rows").replaceChildren(
      ...rows.map((row) =>
        distributorRow(
          row.distributor_id,
          cell("reports_on_time", grouped(row.reports_on_time)),
          cell("reports_late", grouped(row.reports_late)),
          cell("periods_missing", grouped(row.periods_missing)),
          cell("accepted", grouped(row.accepted)),
          cell("duplicates", grouped(row.duplicates)),
          cell("conflicts", grouped(row.conflicts)),
          cell("rejected", grouped(row.rejected)),
        ),
      ),
    );
    showEmpty("quality-empty", rows.length === 0);
  }

  /** The raw topics keyed by distributor: a dead letter's message key there is its id. */
  const DISTRIBUTOR_KEYED = ["shipments", "sales", "inventory", "resellers", "rejections"];

  /** The distributor a rejected line was sent by, where known: its message key on a topic
   *  keyed by distributor, else the distributor_id its original bytes name; null if neither. */
  function sentBy(row) {
    const topic = row.source.split(".").pop();
    if (row.key !== null && DISTRIBUTOR_KEYED.includes(topic)) return row.key;
    try {
      const original = JSON.parse(row.original);
      if (original && typeof original.distributor_id === "string") return original.distributor_id;
    } catch (error) {
      // not JSON (a CSV or X12 line, broken JSON): the sender is not known
    }
    return null;
  }

  /** Where a rejected line came from: its door and where in its file ("csv week.csv:4"),
   *  else (an input that was no event) the topic and position it was read from. */
  function cameFrom(row) {
    const door = [row.door, row.source_ref].filter((part) => part).join(" ");
    if (door) return door;
    const position = row.source_offset === null ? ""
      : row.source_partition === null ? `:${row.source_offset}`
      : `:${row.source_partition}@${row.source_offset}`;
    return `${row.source}${position}`;
  }

  async function loadRejectedLines() {
    const page = await api("/api/dead-letters/lines", {
      ...filters(), order: "newest", limit: REJECTED_SHOWN,
    });
    if (!changed("rejected", page)) return;
    $("rejected-rows").replaceChildren(
      ...page.rows.map((row) =>
        el(
          "tr",
          { "data-where": `${row.partition}@${row.offset}` },
          cell("recorded_at", row.recorded_at.slice(0, 19).replace("T", " ")),
          cell("distributor_id", sentBy(row) ?? "–"),
          cell("reason", row.reason),
          cell("detail", row.detail),
          cell("source", cameFrom(row)),
        )),
    );
    $("rejected-table").hidden = page.total === 0;
    $("rejected-note").textContent = page.total
      ? `${page.rows.length} of ${page.total} shown, newest first`
      : "none";
  }

  async function loadMissingReports() {
    const page = await api("/api/compliance", { ...filters(), status: "missing", limit: 30 });
    if (!changed("missing", page)) return;
    $("missing-weeks").replaceChildren(
      ...page.rows.map((row) =>
        el("li", { "data-distributor": row.distributor_id },
          `${row.distributor_id}: ${row.frequency === "monthly" ? "month" : "week"} of ` +
          `${row.period_start} (due ${row.due.slice(0, 10)})`)),
    );
    $("missing-note").textContent = page.total
      ? `${page.rows.length} of ${page.total} shown`
      : "none: every period reported";
  }

  async function loadDeadLetters() {
    try {
      const rows = await allRows("/api/dead-letters");
      const total = rows.reduce((sum, row) => sum + row.count, 0);
      state.rejectionCounts.deadLetters = total;
      $("kpi-dead-letters").textContent = grouped(total);
    } catch (error) {
      if (error.status !== 403) throw error;
      $("kpi-dead-letters").textContent = "–"; // for the vendor's roles only
    }
  }

  /** The scorecard's periods: the quarter and the month "now" falls in (the periods the
   *  sell-through answer calls partial), kept once known; the choice stays. */
  async function loadScorecardPeriods() {
    const select = $("scorecard-period");
    if (select.options.length) return;
    const [quarter, month] = await Promise.all(
      ["quarter", "month"].map((granularity) =>
        api("/api/sell-through", { granularity, limit: 1 }).then((page) => page.partial_period)),
    );
    for (const period of [quarter, month]) {
      if (period) select.append(el("option", { value: period }, period));
    }
  }

  function scorecardRow(row) {
    const tr = distributorRow(
      row.distributor_id,
      cell("score", row.score ?? "–"),
      cell("sell_through_revenue", money(row.sell_through_revenue, row.currency)),
      cell("share_of_channel_revenue", percent(row.share_of_channel_revenue)),
      cell("accepted_rate", percent(row.accepted_rate)),
      cell("weeks", `${row.weeks_on_time} / ${row.weeks_late} / ${row.weeks_missing}`),
      cell("major_per_1000", row.major_per_1000 ?? "–"),
      cell("weeks_of_supply", row.weeks_of_supply ?? "–"),
      cell("active_resellers", row.reseller_target === null
        ? grouped(row.active_resellers) : `${grouped(row.active_resellers)} of ${row.reseller_target}`),
    );
    tr.prepend(cell("rank", row.rank ?? "–"));
    tr.addEventListener("click", () => {
      state.scorecardOf = row.distributor_id;
      loadScorecardCard().catch(report);
    });
    return tr;
  }

  /** The period's ranking (the vendor's roles); a distributor's token reads its own card. */
  async function loadScorecard() {
    await loadScorecardPeriods();
    const period = $("scorecard-period").value;
    if (!period) return;
    $("scorecard-export").href = `/api/scorecard.csv?period=${encodeURIComponent(period)}`;
    let rows;
    try {
      rows = await allRows("/api/scorecard", { period });
    } catch (error) {
      if (error.status !== 403) throw error;
      rows = null; // a distributor: no ranking, its own card below
    }
    const chosen = filters().distributor_id;
    const shown = rows && chosen ? rows.filter((row) => row.distributor_id === chosen) : rows;
    if (changed("scorecard", shown)) {
      $("scorecard-rows").replaceChildren(...(shown || []).map(scorecardRow));
      $("scorecard-table").hidden = shown === null;
      $("scorecard-export").hidden = shown === null;
      showEmpty("scorecard-empty", shown !== null && shown.length === 0);
    }
    if (rows === null && !state.scorecardOf) {
      const own = chosen || [...state.distributors][0];
      state.scorecardOf = own || null;
    }
    await loadScorecardCard();
  }

  const CARD_FIGURES = [
    ["Score", (c) => c.score ?? "–"],
    ["Parts", (c) => Object.entries(c.parts).map(([name, value]) => `${name} ${value}`).join(", ") || "–"],
    ["Sell-in", (c) => `${grouped(c.sell_in_units)} units, ${money(c.sell_in_revenue, c.currency)}`],
    ["Sell-through", (c) => `${grouped(c.sell_through_units)} units, ${money(c.sell_through_revenue, c.currency)}`],
    ["Revenue target", (c) => money(c.revenue_target, c.currency)],
    ["Gross margin", (c) => `${money(c.gross_margin, c.currency)} (${percent(c.gross_margin_rate)}); lines of unknown cost: ${c.unknown_cost_lines}`],
    ["Lines", (c) => `${c.accepted_lines} accepted, ${c.duplicate_lines} duplicate, ${c.conflict_lines} conflict, ${c.rejected_lines} rejected`],
    ["Violations per 1,000", (c) => `minor ${c.minor_per_1000 ?? "–"}, major ${c.major_per_1000 ?? "–"}, critical ${c.critical_per_1000 ?? "–"}`],
    ["Reporting periods", (c) => `${c.weeks_on_time} on time, ${c.weeks_late} late, ${c.weeks_missing} missing`],
    ["Weeks of supply", (c) => c.weeks_of_supply ?? "–"],
    ["Active resellers", (c) => `${c.active_resellers ?? "–"} (target ${c.reseller_target ?? "–"})`],
    ["Rebates", (c) => c.rebates.map((r) => `${r.program_id}: tier ${r.tiers_reached} of ${r.tiers}`).join("; ") || "–"],
  ];

  /** The open distributor's own card (/api/scorecard/{id}). */
  async function loadScorecardCard() {
    const period = $("scorecard-period").value;
    const distributor = state.scorecardOf;
    if (!period || !distributor) {
      $("scorecard-card").hidden = true;
      return;
    }
    const card = await api(`/api/scorecard/${encodeURIComponent(distributor)}`, { period });
    if (!changed("scorecard-card", card)) return;
    $("scorecard-card-title").textContent = `${card.distributor_id}, ${card.period}`;
    $("scorecard-figures").replaceChildren(
      ...CARD_FIGURES.flatMap(([label, text]) => [
        el("dt", {}, label), el("dd", { "data-figure": label }, text(card)),
      ]),
    );
    $("scorecard-card").hidden = false;
  }

  /** A new token may see other distributors: start the choice (and the view) afresh. */
  function forgetView() {
    state.distributors.clear();
    state.shown = {};
    state.scorecardOf = null;
    const select = $("distributor");
    select.value = "";
    for (const option of [...select.options]) if (option.value) option.remove();
    closeViolationDetail();
  }

  function updateDistributorChoices() {
    const select = $("distributor");
    const known = new Set([...select.options].map((option) => option.value));
    for (const id of [...state.distributors].sort()) {
      if (!known.has(id)) select.append(el("option", { value: id }, id));
    }
  }

  /** /metrics read with the tab's token and shown below the link (a plain link sends no
   *  token: with tokens on it was a 401 page); a role that may not read it is told why.
   *  A second click hides it again. */
  async function toggleMetrics(event) {
    event.preventDefault();
    const shown = $("metrics-text");
    if (!shown.hidden) {
      shown.hidden = true;
      return;
    }
    const response = await fetch("/metrics", {
      headers: authorized({ Accept: "text/plain" }),
      cache: "no-store",
    });
    if (response.ok) {
      shown.textContent = await response.text();
    } else {
      const error = await refusal(response);
      if (response.status === 401) throw error; // asks for a token, as any read does
      shown.textContent = `/metrics answered ${response.status}: ${error.message}`;
    }
    shown.hidden = false;
  }

  /** The scorecard's CSV read with the tab's token and saved under the server's file name
   *  (a plain link sends no token: with tokens on it saved a 401 answer). */
  async function exportScorecard(event) {
    event.preventDefault();
    const response = await fetch(event.currentTarget.href, {
      headers: authorized({ Accept: "text/csv" }),
      cache: "no-store",
    });
    if (!response.ok) throw await refusal(response);
    const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(await response.blob());
    const save = el("a", { href: url, download: named ? named[1] : "scorecard.csv" });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  // --- refresh loop and token --------------------------------------------------------

  function report(error) {
    const status = $("status");
    status.classList.add("error");
    if (error.status === 401) {
      status.textContent = "needs a bearer token";
      $("token-message").textContent = `The API answered: ${error.message}. Enter a bearer token.`;
      $("token-form").hidden = false;
    } else {
      status.textContent = `error: ${error.message}`;
    }
  }

  /** What this worker's reads leave out: "" for the whole channel, else a warning (a worker
   *  holds its own partitions and the standby copies of others'; /health lists them). */
  async function loadCoverage() {
    const held = (await api("/health")).partitions;
    state.partial =
      held && held.missing.length
        ? `partial channel: the distributors of partitions ${held.missing.join(", ")} are not ` +
          "held by this worker (the PostgreSQL read models hold the whole channel)"
        : "";
  }

  async function refresh() {
    const results = await Promise.allSettled([
      loadCoverage(),
      loadInventory(),
      loadAging(),
      loadObligations(),
      loadCommitments(),
      loadRotations(),
      loadClaims(),
      loadNearAuthorizations(),
      loadMatchQueue(),
      loadMasters(),
      loadSellThrough(),
      loadRebates(),
      loadViolations(),
      loadResellers(),
      loadQuality(),
      loadMissingReports(),
      loadDeadLetters(),
      loadScorecard(),
    ]);
    if (changed("rejection-counts", state.rejectionCounts)) {
      try {
        await loadRejectedLines();
      } catch (error) {
        delete state.shown["rejection-counts"]; // read them again next time
        results.push({ status: "rejected", reason: error });
      }
    }
    const failed = results.find((result) => result.status === "rejected");
    if (failed) {
      report(failed.reason);
    } else if (state.partial) {
      $("status").classList.add("error");
      $("status").textContent = state.partial;
    } else {
      $("status").classList.remove("error");
      $("status").textContent = "live";
      $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    }
    state.refreshes += 1;
    document.body.dataset.refreshes = String(state.refreshes);
  }

  async function poll() {
    try {
      await refresh();
    } finally {
      setTimeout(poll, REFRESH_MS);
    }
  }

  function setUp() {
    $("token-button").addEventListener("click", () => {
      $("token-form").hidden = !$("token-form").hidden;
    });
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      $("token-input").value = "";
      $("token-form").hidden = true;
      forgetView();
      refresh();
    });
    $("token-clear").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      forgetView();
      refresh();
    });
    $("distributor").addEventListener("change", () => {
      closeViolationDetail();
      state.scorecardOf = $("distributor").value || null;
      refresh();
    });
    $("granularity").addEventListener("change", () => loadSellThrough().catch(report));
    $("scorecard-period").addEventListener("change", () => loadScorecard().catch(report));
    $("metrics-link").addEventListener("click", (event) => toggleMetrics(event).catch(report));
    $("scorecard-export").addEventListener("click", (event) =>
      exportScorecard(event).catch(report),
    );
    poll();
  }

  setUp();
})();
