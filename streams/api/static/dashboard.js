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
  };

  // --- HTTP --------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      super(body && body.error ? body.error.message : `HTTP ${status}`);
      this.status = status;
    }
  }

  async function api(path, params = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") query.set(key, value);
    }
    const url = query.toString() ? `${path}?${query}` : path;
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(url, { headers, cache: "no-store" });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  /** Every row of a paginated list endpoint, page by page. */
  async function allRows(path, params = {}) {
    let rows = [];
    for (let offset = 0; ; ) {
      const page = await api(path, { ...params, limit: PAGE_SIZE, offset });
      rows = rows.concat(page.rows);
      offset += page.rows.length;
      if (offset >= page.total || page.rows.length === 0) return rows;
    }
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
          cell("value", grouped(row.value)),
          cell("sold_last_4_weeks", grouped(row.sold_last_4_weeks)),
          cell("weeks_of_supply", grouped(row.weeks_of_supply)),
          cell("most_supply", most && most.weeks_of_supply ? `${most.sku} · ${most.weeks_of_supply}` : "–"),
        );
      }),
    );
    showEmpty("inventory-empty", page.rows.length === 0);
    const channel = page.channel;
    $("kpi-on-hand").textContent = grouped(channel.expected_on_hand);
    $("kpi-value").textContent = grouped(channel.value);
    $("kpi-weeks").textContent = grouped(channel.weeks_of_supply);
    updateDistributorChoices();
  }

  async function loadSellThrough() {
    const rows = await allRows("/api/sell-through", {
      ...filters(),
      granularity: $("granularity").value,
    });
    const periods = new Map();
    for (const row of rows) {
      const totals = periods.get(row.period) || { sellIn: 0, sellThrough: 0 };
      totals.sellIn += row.sell_in;
      totals.sellThrough += row.sell_through;
      periods.set(row.period, totals);
    }
    const labels = [...periods.keys()].sort();
    if (!changed("sell-through", [...periods])) return;
    setChartData("sell-through-chart", "line", labels, [
      { label: "sell-in", data: labels.map((p) => periods.get(p).sellIn), borderColor: "#2f6fdf", backgroundColor: "#2f6fdf" },
      { label: "sell-through", data: labels.map((p) => periods.get(p).sellThrough), borderColor: "#e06a00", backgroundColor: "#e06a00" },
    ]);
    showEmpty("sell-through-empty", labels.length === 0);
  }

  async function loadRebates() {
    const rows = await allRows("/api/rebates", { ...filters(), status: "open" });
    if (!changed("rebates", rows)) return;
    $("rebate-rows").replaceChildren(
      ...rows.map((row) => {
        const key = `${row.program_id}|${row.distributor_id}|${row.period}`;
        const top = row.next_threshold === null;
        const share = top ? 1 : Math.max(0, 1 - Number(row.gap_to_next) / Number(row.next_threshold));
        const gap = top
          ? "top tier reached"
          : `${grouped(row.gap_to_next)} to the next tier (at ${grouped(row.next_threshold)})`;
        return el(
          "div",
          { class: "rebate", "data-key": key },
          el(
            "div",
            { class: "head" },
            el("span", {}, `${row.program_id} · ${row.distributor_id} · ${row.period}`),
            el("span", {}, "accrued ", el("strong", { class: "accrued" }, grouped(row.rebate)), ` at ${percent(row.tier_rate)}`),
          ),
          el("div", { class: "bar", title: `${Math.round(share * 100)} % of the way` },
            el("div", { class: top ? "fill top" : "fill", style: `width: ${(share * 100).toFixed(1)}%` })),
          el("div", { class: "gap" }, gap),
        );
      }),
    );
    showEmpty("rebates-empty", rows.length === 0);
    $("kpi-rebate").textContent = grouped(addDecimals(rows.map((row) => row.rebate)) || "0");
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
          cell("unit_price", row.unit_price),
          cell("floor_price", row.floor_price),
          cell("status", row.status),
        ),
      ),
    );
    const which = state.severity ? `${state.severity} violations` : "violations";
    $("violation-list-note").textContent = `${page.rows.length} of ${page.total} ${which} shown`;
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
        ["Unit price", `${sale.unit_price} ${sale.currency}`, "unit_price"],
        ["Floor price", `${found.price.floor_price} (${found.price.scope} price)`, "floor_price"],
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
          cell("weeks_missing", grouped(row.weeks_missing)),
          cell("accepted", grouped(row.accepted)),
          cell("duplicates", grouped(row.duplicates)),
          cell("conflicts", grouped(row.conflicts)),
          cell("rejected", grouped(row.rejected)),
        ),
      ),
    );
    showEmpty("quality-empty", rows.length === 0);
  }

  async function loadRejectedLines() {
    const page = await api("/api/dead-letters/lines", {
      ...filters(), order: "newest", limit: REJECTED_SHOWN,
    });
    if (!changed("rejected", page)) return;
    $("rejected-rows").replaceChildren(
      ...page.rows.map((row) => {
        const position = row.source_offset === null ? ""
          : row.source_partition === null ? `:${row.source_offset}`
          : `:${row.source_partition}@${row.source_offset}`;
        return el(
          "tr",
          { "data-where": `${row.partition}@${row.offset}` },
          cell("recorded_at", row.recorded_at.slice(0, 19).replace("T", " ")),
          cell("key", row.key ?? "–"),
          cell("reason", row.reason),
          cell("detail", row.detail),
          cell("source", `${row.source}${position}`),
        );
      }),
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
          `${row.distributor_id}: week of ${row.week} (due ${row.due.slice(0, 10)})`)),
    );
    $("missing-note").textContent = page.total
      ? `${page.rows.length} of ${page.total} shown`
      : "none: every week reported";
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

  /** A new token may see other distributors: start the choice (and the view) afresh. */
  function forgetView() {
    state.distributors.clear();
    state.shown = {};
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

  async function refresh() {
    const results = await Promise.allSettled([
      loadInventory(),
      loadSellThrough(),
      loadRebates(),
      loadViolations(),
      loadResellers(),
      loadQuality(),
      loadMissingReports(),
      loadDeadLetters(),
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
      refresh();
    });
    $("granularity").addEventListener("change", () => loadSellThrough().catch(report));
    poll();
  }

  setUp();
})();
