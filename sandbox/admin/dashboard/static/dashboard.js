/* The sandbox dashboard's script: keeps the page current by polling the admin JSON API, and
   wires the page's forms and buttons to the same API.

   Everything the API returns reaches the page as text (textContent, attribute values),
   never as HTML: request bodies and headers come from whoever called the sandbox. */
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("dashboard-config").textContent);
  const SIGNATURE = new RegExp(config.signatureHeaders, "i");
  const POLL_MS = 1000;
  const SLOW_EVERY = 5; // keys, subscriptions and the journal check: every fifth poll
  const KEEP_REQUESTS = 300;
  const versions = new WeakMap(); // rendered node -> the JSON it was built from

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  // -- talking to the admin API ----------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(config.api + path, options);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const message = data && data.error && data.error.message;
      throw new ApiError(response.status, message || `${method} ${path}: ${response.status}`);
    }
    return data;
  }

  const id = (value) => encodeURIComponent(value);

  // -- building DOM (text only) ----------------------------------------------------------
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const statusClass = (status) => (status ? `s${Math.floor(status / 100)}xx` : "s-none");
  const shortKey = (key) => (!key ? "anonymous" : key.length <= 20 ? key : `${key.slice(0, 16)}…`);
  const clock = (epoch) =>
    epoch ? new Date(epoch * 1000).toLocaleTimeString([], { hour12: false }) : "";

  function when(epoch) {
    if (!epoch) return null;
    const iso = new Date(epoch * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    return h("time", { datetime: iso, "data-epoch": epoch }, clock(epoch));
  }

  function pretty(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }

  const copyButton = (value, what) =>
    h("button", { type: "button", class: "copy", "data-action": "copy", "data-value": value,
                  "aria-label": `Copy ${what}` }, "Copy");

  function headerList(values, attrs) {
    const pairs = Object.entries(values || {});
    if (!pairs.length) return h("p", { class: "muted" }, "No headers.");
    return h("dl", attrs || { class: "headers" },
      pairs.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
  }

  const bodyBlock = (text) =>
    text ? h("pre", { class: "body" }, pretty(text)) : h("p", { class: "muted" }, "No body.");

  // -- the pieces (the same markup as templates/sandbox_dashboard_macros.html) ------------
  function requestEntry(entry) {
    const problems = entry.problems || [];
    const classes = ["entry", "request", statusClass(entry.status)];
    if (entry.status >= 400) classes.push("is-error");
    if (problems.length) classes.push("has-problems");
    return h("details", { class: classes.join(" "), "data-testid": "request", "data-id": entry.id,
                          "data-status": entry.status, "data-problems": problems.length },
      h("summary", {},
        h("span", { class: "line" },
          when(entry.at),
          h("span", { class: "method" }, entry.method),
          h("span", { class: "path", title: entry.route || "" },
            entry.path + (entry.query ? `?${entry.query}` : "")),
          h("span", { class: "operation" }, entry.operation || "no operation"),
          entry.scenario && h("span", { class: "badge scenario", title: "scenario" }, entry.scenario),
          entry.idempotent_replay && h("span", { class: "badge replay" }, "replay"),
          h("span", { class: "status", "data-testid": "request-status" }, entry.status),
          h("span", { class: "latency" }, `${Math.round(entry.latency_ms || 0)} ms`)),
        problems.length
          ? h("span", { class: "problems", "data-testid": "request-problems" },
              problems.map((p) => h("span", { class: "problem" }, h("code", {}, p.field), " ", p.message)))
          : null),
      h("div", { class: "exchange" },
        h("p", { class: "facts" },
          h("span", {}, "key ", h("code", {}, entry.key || "anonymous")),
          h("span", {}, "request id ", h("code", {}, entry.request_id)),
          entry.route && h("span", {}, "route ", h("code", {}, entry.route)),
          h("span", {}, `worker ${entry.worker_pid}`)),
        h("div", { class: "pair" },
          h("section", { "aria-label": "Request" }, h("h4", {}, "Request"),
            headerList(entry.request && entry.request.headers), bodyBlock(entry.request && entry.request.body)),
          h("section", { "aria-label": "Response" }, h("h4", {}, "Response"),
            headerList(entry.response && entry.response.headers), bodyBlock(entry.response && entry.response.body)))));
  }

  function attemptItem(attempt) {
    const failed = attempt.error || !attempt.status || attempt.status >= 300;
    const signed = Object.fromEntries(
      Object.entries(attempt.request_headers || {}).filter(([name]) => SIGNATURE.test(name)));
    return h("li", { class: `attempt ${statusClass(attempt.status)}${failed ? " is-error" : ""}`,
                     "data-testid": "attempt", "data-attempt": attempt.attempt },
      h("p", { class: "line" },
        h("strong", {}, `Attempt ${attempt.attempt}`),
        when(attempt.started_at),
        attempt.status && h("span", { class: "status" }, attempt.status),
        attempt.error && h("span", { class: "error" }, attempt.error),
        h("span", { class: "latency" }, `${Math.round(attempt.latency_ms || 0)} ms`)),
      Object.keys(signed).length
        ? headerList(signed, { class: "headers signature", "data-testid": "signature" })
        : null,
      attempt.response_excerpt && h("pre", { class: "excerpt" }, attempt.response_excerpt));
  }

  function deliveryItem(delivery) {
    const log = (delivery.attempt_log || []).slice().reverse();
    return h("li", { class: `entry delivery is-${delivery.status}`, "data-testid": "delivery",
                     "data-id": delivery.id, "data-status": delivery.status },
      h("div", { class: "line" },
        h("span", { class: "event" }, delivery.event_type),
        h("span", { class: "badge state", "data-testid": "delivery-status" }, delivery.status),
        h("span", { class: "tries", "data-testid": "delivery-attempts" },
          `attempt ${delivery.attempts} of ${delivery.max_attempts}`),
        delivery.next_attempt_at && h("span", { class: "next" }, "next try ", when(delivery.next_attempt_at)),
        h("button", { type: "button", "data-action": "redeliver", "data-id": delivery.id,
                      "data-testid": "redeliver" }, "Redeliver")),
      h("p", { class: "facts" },
        h("code", {}, delivery.id), h("span", {}, "to"), h("code", { class: "url" }, delivery.url),
        h("span", {}, `signed ${delivery.scheme}`)),
      log.length
        ? h("ol", { class: "attempts", reversed: true }, log.map(attemptItem))
        : h("p", { class: "muted" }, "Not sent yet."),
      h("details", { class: "payload", "data-keep": "payload" },
        h("summary", {}, "Payload"), bodyBlock(delivery.body)));
  }

  const keyRow = (key) =>
    h("tr", { "data-testid": "key", "data-id": key.key },
      h("td", {}, h("code", {}, key.key), " ", copyButton(key.key, "key")),
      h("td", {}, key.plan),
      h("td", {}, key.label || (key.key === config.bannerKey ? "banner" : key.source)));

  function usageItem(row) {
    return h("li", { class: "usage", "data-testid": "usage-row", "data-id": row.key },
      h("p", { class: "line" },
        h("code", { title: row.key }, shortKey(row.key)), " ",
        h("span", { class: "muted" }, `${row.plan}: ${String(row.windows).replaceAll(";", " · ")}`)),
      row.limit
        ? [h("meter", { min: 0, max: row.limit, value: row.remaining, low: Math.ceil(row.limit * 0.2),
                        optimum: row.limit, "aria-label": `Requests left for ${row.key}` },
             `${row.remaining} of ${row.limit}`),
           h("p", { class: "muted small" }, `${row.remaining} of ${row.limit} left · resets `, when(row.reset))]
        : h("p", { class: "muted small" }, "No rate limit."));
  }

  function activeItem(active) {
    const params = Object.entries(active.params || {}).map(([name, value]) => `; ${name}=${value}`);
    return h("li", { class: "active-scenario", "data-testid": "active-scenario", "data-id": active.id },
      h("span", { class: "badge scenario" }, active.scenario + params.join("")),
      h("span", {}, "for ", active.key ? h("code", { title: active.key }, shortKey(active.key)) : "every key"),
      h("span", {}, `on ${active.operation || "every operation"}`),
      h("span", { class: "muted" }, active.remaining === null ? "until cleared" : `${active.remaining} left`),
      h("button", { type: "button", "data-action": "clear-scenario", "data-id": active.id,
                    "data-testid": "clear-scenario" }, "Clear"));
  }

  const subscriptionItem = (subscription) =>
    h("li", { "data-testid": "subscription", "data-id": subscription.id },
      h("code", { class: "url" }, subscription.url), " ",
      h("span", { class: "muted" },
        subscription.events.join(", ") + (subscription.scheme ? ` · ${subscription.scheme}` : "")), " ",
      h("button", { type: "button", "data-action": "unsubscribe", "data-id": subscription.id }, "Remove"));

  /** A scenario switch for a new key: the page's "every key" form, pointed at the key. */
  function scenarioForm(key) {
    const form = $('form[data-form="scenario"][data-id="*"]').cloneNode(true);
    form.dataset.id = key.key;
    form.dataset.key = key.key;
    const who = $(".who", form);
    who.replaceChildren(h("code", { title: key.key }, shortKey(key.key)));
    $("select[name=scenario]", form).previousElementSibling.textContent = `Scenario for ${key.key}`;
    form.reset();
    return form;
  }

  // -- keeping lists current --------------------------------------------------------------
  /** Make `list` show `items` in order, rebuilding only the nodes whose data changed, so
      focus, scroll and open <details> survive a poll. */
  function reconcile(list, items, keyOf, build, { rebuild = true } = {}) {
    const current = new Map();
    for (const node of list.children) current.set(node.dataset.id, node);
    items.forEach((item, index) => {
      const key = String(keyOf(item));
      const json = JSON.stringify(item);
      let node = current.get(key);
      if (!node || (rebuild && versions.get(node) !== json)) {
        const fresh = build(item);
        versions.set(fresh, json);
        if (node) {
          keepOpen(node, fresh);
          node.replaceWith(fresh);
        }
        node = fresh;
      }
      current.delete(key);
      const at = list.children[index];
      if (at !== node) list.insertBefore(node, at || null);
    });
    for (const gone of current.values()) gone.remove();
    showEmpty(list);
  }

  function keepOpen(old, fresh) {
    if (old.open) fresh.open = true;
    for (const details of $$("details[data-keep]", old)) {
      const twin = $(`details[data-keep="${details.dataset.keep}"]`, fresh);
      if (twin) twin.open = details.open;
    }
  }

  function showEmpty(list) {
    const empty = $(`[data-empty-for="${list.id}"]`);
    if (empty) empty.hidden = list.children.length > 0;
  }

  // -- polling ------------------------------------------------------------------------------
  let since = Number(config.since) || 0;
  let polls = 0;

  async function refreshRequests() {
    const data = await api("GET", `/requests?since=${since}&limit=100`);
    const fresh = data.requests.filter((entry) => entry.id > since); // newest first
    if (!fresh.length) return;
    since = Math.max(since, ...fresh.map((entry) => entry.id));
    const list = $("#request-list");
    list.prepend(...fresh.map(requestEntry));
    while (list.children.length > KEEP_REQUESTS) list.lastElementChild.remove();
    applyFilter();
    showEmpty(list);
  }

  /** Notice the journal was cleared elsewhere, or the sandbox restarted with a fresh one. */
  async function checkJournal() {
    const newest = (await api("GET", "/requests?limit=1")).requests[0];
    if (!newest || newest.id < since) {
      clearRequests();
      if (newest) since = 0;
    }
  }

  function clearRequests() {
    const list = $("#request-list");
    list.replaceChildren();
    showEmpty(list);
  }

  async function refreshDeliveries() {
    const data = await api("GET", `/webhooks/deliveries?limit=${config.shownDeliveries}`);
    reconcile($("#delivery-list"), data.deliveries, (d) => d.id, deliveryItem);
  }

  async function refreshScenarios() {
    const data = await api("GET", "/scenarios");
    reconcile($("#active-list"), data.active, (a) => a.id, activeItem);
    showChaos(data.chaos, false);
  }

  async function refreshUsage() {
    const data = await api("GET", "/usage");
    reconcile($("#usage-list"), data.usage, (row) => row.key, usageItem);
  }

  async function refreshKeys() {
    const data = await api("GET", "/keys");
    reconcile($("#key-list"), data.keys, (key) => key.key, keyRow);
    // a switch per key; never rebuilt, so a half-filled form survives the poll
    reconcile($("#scenario-forms"), data.keys, (key) => key.key, scenarioForm, { rebuild: false });
  }

  async function refreshSubscriptions() {
    const data = await api("GET", "/webhooks");
    reconcile($("#subscription-list"), data.subscriptions, (s) => s.id, subscriptionItem);
  }

  function refreshAll() {
    return Promise.all([refreshRequests(), refreshDeliveries(), refreshScenarios(), refreshUsage(),
                        refreshKeys(), refreshSubscriptions()]);
  }

  async function poll() {
    if (!document.hidden) {
      const jobs = [refreshRequests(), refreshDeliveries(), refreshScenarios(), refreshUsage()];
      if (polls % SLOW_EVERY === 0) jobs.push(refreshKeys(), refreshSubscriptions(), checkJournal());
      polls += 1;
      const failed = (await Promise.allSettled(jobs)).find((r) => r.status === "rejected");
      showLive(failed ? failed.reason : null);
    }
    setTimeout(poll, POLL_MS);
  }

  function showLive(error) {
    const live = $('[data-testid="live-status"]');
    live.classList.toggle("is-live", !error);
    live.classList.toggle("is-down", Boolean(error));
    let text = "Live";
    if (error instanceof ApiError && error.status === 401) {
      text = "Admin token needed: open /__sandbox/?token=<token>";
    } else if (error) {
      text = "Not reaching the sandbox; retrying…";
    }
    $(".text", live).textContent = text;
  }

  function showChaos(chaos, fillForm) {
    const state = $('[data-testid="chaos-state"]');
    state.dataset.enabled = String(chaos.enabled);
    const [low, high] = chaos.latency_ms;
    state.textContent = chaos.enabled
      ? `On: ${Math.round(chaos.error_rate * 1000) / 10}% of requests fail with ` +
        `${chaos.statuses.join(", ")}; ${low}–${high} ms added.`
      : "Off.";
    if (fillForm) {
      const form = $('form[data-form="chaos"]');
      form.elements.error_rate.value = chaos.error_rate;
      form.elements.latency.value = high ? `${low}..${high}ms` : "";
      form.elements.statuses.value = chaos.statuses.join("|");
    }
  }

  function applyFilter() {
    const form = $('form[data-form="request-filter"]');
    const status = form.elements.status.value;
    const problemsOnly = form.elements.problems.checked;
    for (const entry of $("#request-list").children) {
      const code = Number(entry.dataset.status);
      let shown = status === "error" ? code >= 400 : !status || String(code)[0] === status;
      if (problemsOnly && !Number(entry.dataset.problems)) shown = false;
      entry.hidden = !shown;
    }
  }

  // -- notices ------------------------------------------------------------------------------
  let noticeTimer = null;

  function notify(text, { error = false, sticky = false } = {}) {
    const notice = $('[data-testid="notice"]');
    $(".text", notice).textContent = text;
    notice.classList.toggle("is-error", error);
    notice.hidden = false;
    clearTimeout(noticeTimer);
    if (!sticky && !error) noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // no clipboard API outside a secure context (plain HTTP on another host): the old way
      const area = h("textarea", { class: "visually-hidden", readonly: true });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
  }

  // -- buttons and forms ----------------------------------------------------------------------
  const actions = {
    async copy(button) {
      await copyText(button.dataset.value);
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    },
    async redeliver(button) {
      await api("POST", `/webhooks/deliveries/${id(button.dataset.id)}/redeliver`);
      notify(`Redelivering ${button.dataset.id}.`);
      await refreshDeliveries();
    },
    async "clear-scenario"(button) {
      await api("DELETE", `/scenarios/active/${id(button.dataset.id)}`);
      await refreshScenarios();
    },
    async "clear-scenarios"() {
      const data = await api("DELETE", "/scenarios/active");
      notify(`Cleared ${data.cleared} scenario${data.cleared === 1 ? "" : "s"}.`);
      await refreshScenarios();
    },
    async "chaos-off"() {
      showChaos(await api("DELETE", "/chaos"), true);
      notify("Chaos is off.");
    },
    async reset() {
      const sure = window.confirm(
        "Reset the sandbox? Stored records, rate-limit counters, webhook deliveries, scenarios, " +
        "chaos and the request log go back to the start. Keys and subscriptions stay.");
      if (!sure) return;
      await api("POST", "/reset");
      clearRequests();
      notify("The sandbox is back to its seed state.");
      await refreshAll();
      showChaos((await api("GET", "/chaos")), true);
    },
    async "clear-requests"() {
      await api("DELETE", "/requests");
      clearRequests();
    },
    async unsubscribe(button) {
      await api("DELETE", `/webhooks/${id(button.dataset.id)}`);
      await refreshSubscriptions();
    },
    dismiss() {
      $('[data-testid="notice"]').hidden = true;
    },
  };

  const forms = {
    async scenario(form) {
      const fields = form.elements;
      const body = { scenario: fields.scenario.value };
      if (form.dataset.key) body.key = form.dataset.key;
      if (fields.operation.value) body.operation = fields.operation.value;
      if (fields.count.value) body.count = Number(fields.count.value);
      // "latency=2s; fails=3", as the X-Sandbox-Scenario header writes them
      const params = {};
      for (const pair of fields.params.value.split(/[;,]/)) {
        const [name, ...rest] = pair.split("=");
        if (name.trim()) params[name.trim()] = rest.join("=").trim();
      }
      if (Object.keys(params).length) body.params = params;
      await api("POST", "/scenarios/active", body);
      const times = body.count ? `for ${body.count} request${body.count === 1 ? "" : "s"}` : "until cleared";
      notify(`${body.scenario} is on for ${body.key || "every key"}, ` +
             `${body.operation || "every operation"}, ${times}.`);
      await refreshScenarios();
    },
    async "create-key"(form) {
      const made = await api("POST", "/keys", { plan: form.elements.plan.value,
                                                label: form.elements.label.value });
      notify(`Created ${made.key} on the ${made.plan} plan.`);
      form.elements.label.value = "";
      await Promise.all([refreshKeys(), refreshUsage()]);
    },
    async chaos(form) {
      const fields = form.elements;
      const chaos = await api("PUT", "/chaos", {
        error_rate: Number(fields.error_rate.value || 0),
        latency: fields.latency.value.trim(),
        statuses: fields.statuses.value.trim(),
      });
      showChaos(chaos, true);
      notify(chaos.enabled ? "Chaos is on." : "Chaos is off.");
    },
    async subscribe(form) {
      const made = await api("POST", "/webhooks", { url: form.elements.url.value, events: ["*"] });
      notify(`Subscribed ${made.url}. Signing secret (shown once): ${made.secret}`, { sticky: true });
      form.reset();
      await refreshSubscriptions();
    },
    "request-filter"() {
      applyFilter(); // nothing to send: the filter only hides entries already shown
    },
    async event(form) {
      const sent = await api("POST", "/events", { type: form.elements.type.value.trim() });
      const count = sent.deliveries.length;
      notify(`Sent ${sent.event.id}: ${count} deliver${count === 1 ? "y" : "ies"} queued.`);
      await refreshDeliveries();
    },
  };

  async function run(control, job) {
    control.disabled = true;
    try {
      await job();
    } catch (error) {
      notify(error.message || String(error), { error: true });
    } finally {
      control.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !actions[button.dataset.action]) return;
    event.preventDefault();
    run(button, () => actions[button.dataset.action](button));
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-form]");
    if (!form || !forms[form.dataset.form]) return;
    event.preventDefault();
    const submit = $("[type=submit]", form) || form;
    run(submit, () => forms[form.dataset.form](form));
  });

  $('form[data-form="request-filter"]').addEventListener("change", applyFilter);

  // -- start ---------------------------------------------------------------------------------
  document.documentElement.classList.remove("no-js");
  for (const time of $$("time[data-epoch]")) time.textContent = clock(Number(time.dataset.epoch));
  poll(); // "Live" once the first poll answers
})();
