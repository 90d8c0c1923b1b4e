// The dashboard page: reads the platform's JSON API, draws the figures, refreshes itself.
// Every string from the API goes into the page through textContent (never innerHTML).
"use strict";

const REFRESH_SECONDS = 30;
const CHART_POINTS = 240;
const RANGES = { "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
const STORE = { token: "dashboard.token", host: "dashboard.host", range: "dashboard.range", level: "dashboard.level" };

// ?host=...&range=7d in the address (a bookmark for a wall screen) wins over what this browser last chose.
const address = new URLSearchParams(window.location.search);
const chosenRange = address.get("range") || localStorage.getItem(STORE.range);

const state = {
  host: address.get("host") || localStorage.getItem(STORE.host) || "",
  // "fleet" (every host) or "host" (one host's figures); null until the hosts are known: a page whose address
  // names no host opens on the fleet when there is more than one host.
  view: address.get("host") ? "host" : null,
  fleet: [],               // every host with its status (/api/v1/hosts)
  fleetTime: null,         // when the server worked their statuses out
  range: RANGES[chosenRange] ? chosenRange : "24h",
  rangeClicked: Boolean(RANGES[address.get("range")]), // a range named in the address or clicked is kept as is
  fittedHost: null,        // the host the range was last widened for (once per host shown)
  level: localStorage.getItem(STORE.level) || "",
  token: localStorage.getItem(STORE.token) || "",
  catalogue: null,         // {metric: {label, unit, machine_column, share_of, warning, critical, overrides, ...}}
  incidents: [],           // active incidents of every host
  executionId: null,       // the run whose detail is open
  serverHost: null,        // the machine the server runs on (its figures are sampled live)
  charts: {},              // uPlot instances by chart id
  timer: null,
  refreshing: null,        // the refresh under way (a promise)
  refreshAgain: false,
  historyRequest: 0,       // only the newest history request is drawn (range clicks can overtake each other)
};

// ---------------------------------------------------------------- small helpers

const $ = (selector) => document.querySelector(selector);

/** An element with attributes and children; strings become text nodes, so data is never parsed as HTML. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function fmtNumber(value, digits = 1) {
  return isNumber(value) ? value.toFixed(digits) : "–";
}

function fmtPercent(value) {
  return isNumber(value) ? `${value.toFixed(1)}%` : "–";
}

function fmtBytes(value, suffix = "") {
  if (!isNumber(value)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let size = Math.abs(value);
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  const digits = unit === 0 ? 0 : size < 10 ? 2 : size < 100 ? 1 : 0;
  return `${value < 0 ? "-" : ""}${size.toFixed(digits)} ${units[unit]}${suffix}`;
}

function fmtDuration(seconds) {
  if (!isNumber(seconds)) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function parseTime(value) {
  if (!value) return null;
  const moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? null : moment;
}

function fmtTime(value) {
  const moment = value instanceof Date ? value : parseTime(value);
  if (!moment) return "–";
  const sameDay = moment.toDateString() === new Date().toDateString();
  return sameDay
    ? moment.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : moment.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

function fmtRelative(value) {
  const moment = parseTime(value);
  if (!moment) return "";
  const seconds = (moment.getTime() - Date.now()) / 1000;
  const steps = [[60, "second"], [3600, "minute"], [86400, "hour"], [Infinity, "day"]];
  const sizes = { second: 1, minute: 60, hour: 3600, day: 86400 };
  for (const [limit, unit] of steps) {
    if (Math.abs(seconds) < limit) return relativeFormat.format(Math.round(seconds / sizes[unit]), unit);
  }
  return "";
}

/** A <time> element showing a local time, with the exact ISO time as its tooltip. */
function timeNode(value, relative = false) {
  const moment = parseTime(value);
  if (!moment) return el("span", { class: "muted" }, "–");
  const text = relative ? `${fmtTime(moment)} (${fmtRelative(value)})` : fmtTime(moment);
  return el("time", { datetime: moment.toISOString(), title: moment.toString() }, text);
}

function badge(text, kind) {
  return el("span", { class: `badge ${String(kind || text || "").toLowerCase()}` }, text);
}

/** A job name that may wrap after its "_", "-" and "." on a narrow screen, never inside a part. */
function jobName(name, tag = "span") {
  const parts = String(name).split(/(?<=[_.-])/);
  return el(tag, { class: "job-name" }, ...parts.flatMap((part, index) => (index ? [el("wbr"), part] : [part])));
}

function emptyRow(table, columns, text) {
  table.append(el("tr", { class: "empty" }, el("td", { colspan: columns }, text)));
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** JSON from the API; the token rides along when one is stored (reads may need it: API_READ_AUTH). */
async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    cache: "no-store",
  });
  let payload = null;
  const text = await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch (error) {
      payload = text;
    }
  }
  if (!response.ok && !(options.accept || []).includes(response.status)) {
    throw new ApiError(response.status, errorMessage(payload, response));
  }
  return payload;
}

function errorMessage(payload, response) {
  const detail = payload && typeof payload === "object" ? payload.detail ?? payload.message ?? payload.error : payload;
  if (Array.isArray(detail)) return detail.map((item) => item.msg || JSON.stringify(item)).join("; ");
  return `${response.status} ${detail || response.statusText}`;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The rows of a list response, whether it is a bare list or an object holding one. */
function items(payload) {
  if (Array.isArray(payload)) return payload;
  if (payload && typeof payload === "object") {
    for (const key of ["items", "results", "data", "rows"]) {
      if (Array.isArray(payload[key])) return payload[key];
    }
  }
  return [];
}

// ---------------------------------------------------------------- levels

const LEVEL_RANK = { ok: 0, warning: 1, critical: 2 };

/** ok / warning / critical of a value against the levels the API gave (a value strictly above a level). */
function thresholdLevel(metric, resource, value) {
  if (!isNumber(value) || !state.catalogue) return "unknown";
  const spec = state.catalogue[metric];
  if (!spec) return "unknown";
  const levels = (spec.hosts && spec.hosts[state.host]) || spec; // the shown host's own (@host overrides)
  const override = resource && levels.overrides ? levels.overrides[resource] || {} : {};
  const warning = "warning" in override ? override.warning : levels.warning;
  const critical = "critical" in override ? override.critical : levels.critical;
  if (!isNumber(warning) && !isNumber(critical)) return "unknown"; // not graded (levels off)
  if (isNumber(critical) && value > critical) return "critical";
  if (isNumber(warning) && value > warning) return "warning";
  return "ok";
}

/** The level of an active incident of the shown host for (metric, resource): it holds through hysteresis. */
function incidentLevel(metric, resource) {
  let level = null;
  for (const incident of state.incidents) {
    if (incident.host !== state.host || incident.metric !== metric) continue;
    if ((incident.resource || "") !== (resource || "")) continue;
    const status = String(incident.status || "").toLowerCase();
    if (status in LEVEL_RANK && (level === null || LEVEL_RANK[status] > LEVEL_RANK[level])) level = status;
  }
  return level;
}

function worstLevel(...levels) {
  return levels.reduce((worst, level) => ((LEVEL_RANK[level] ?? -1) > (LEVEL_RANK[worst] ?? -1) ? level : worst),
    "unknown");
}

function metricLabel(metric) {
  return (state.catalogue && state.catalogue[metric] && state.catalogue[metric].label) || metric;
}

function levelOf(metric, resource, value) {
  const fromThresholds = thresholdLevel(metric, resource, value);
  const fromIncident = incidentLevel(metric, resource);
  if (fromIncident === null) return fromThresholds;
  if (fromThresholds === "unknown") return fromIncident;
  return LEVEL_RANK[fromIncident] > LEVEL_RANK[fromThresholds] ? fromIncident : fromThresholds;
}

// ---------------------------------------------------------------- current figures

/** A tile for each summary metric of the catalogue the sample has (memory, swap, I/O wait, steal ...): its
 * value, what it is a share of, coloured by its levels. A share of nothing (a machine without swap) is left out. */
function summaryTiles(sample) {
  return Object.values(state.catalogue || {}).filter((spec) => spec.summary && spec.machine_column).map((spec) => {
    const value = sample[spec.machine_column];
    if (!isNumber(value)) return null;
    const share = spec.share_of;
    let detail = "";
    if (share) {
      const whole = sample[share.whole_column];
      if (!isNumber(whole) || whole <= 0) return null;
      detail = `${fmtNumber(sample[share.part_column], 1)} / ${fmtNumber(whole, 1)} ${share.unit}`;
    }
    return tile(spec.chart_label, fmtValue(spec.metric, value), detail, levelOf(spec.metric, "", value));
  });
}

function tile(label, value, detail, level) {
  return el("div", { class: `tile level-${level}`, dataset: { level } },
    el("div", { class: "label" }, label),
    el("div", { class: "value" }, value),
    el("div", { class: "detail" }, detail || "\u00a0"));
}

function meter(name, figure, percent, sub, level, title) {
  const width = isNumber(percent) ? Math.max(0, Math.min(100, percent)) : 0;
  return el("div", { class: `meter level-${level}`, dataset: { level }, title: title || name },
    el("span", { class: "name" }, name),
    el("span", { class: "figure" }, figure),
    el("div", { class: "bar" }, el("span", { style: `width: ${width}%` })),
    sub ? el("span", { class: "sub" }, sub) : null);
}

function renderCurrent(sample, live) {
  const tiles = $("#current-tiles");
  const disks = $("#disk-list");
  const networks = $("#network-list");
  const gpus = $("#gpu-list");
  if (!sample) {
    tiles.replaceChildren(el("p", { class: "muted" }, "No sample stored for this host yet."));
    disks.replaceChildren();
    networks.replaceChildren();
    gpus.replaceChildren();
    renderContainers([]);
    $("#sample-time").textContent = "";
    return;
  }
  $("#current-panel").dataset.source = live ? "live" : "stored";
  $("#sample-time").replaceChildren(live ? "live sample of the server's machine, " : "stored sample taken ",
    timeNode(sample.timestamp, !live));

  const load = [sample.load_1m, sample.load_5m, sample.load_15m].map((value) => fmtNumber(value, 2)).join(" / ");
  tiles.replaceChildren(...[
    tile("CPU", fmtPercent(sample.cpu_percent), isNumber(sample.cpu_count) ? `${sample.cpu_count} cores` : "",
      levelOf("cpu_percent", "", sample.cpu_percent)),
    tile("Load 1/5/15 min", fmtNumber(sample.load_5m, 2), `${load} · ${fmtNumber(sample.load_per_core, 2)} per core`,
      levelOf("load_per_core", "", sample.load_per_core)),
    ...summaryTiles(sample),
    tile("Network ↑", fmtBytes(sample.network_sent_bytes_per_second, "/s"),
      `${fmtNumber(sample.network_sent_mb, 0)} MiB since boot`, "unknown"),
    tile("Network ↓", fmtBytes(sample.network_recv_bytes_per_second, "/s"),
      `${fmtNumber(sample.network_recv_mb, 0)} MiB since boot`, "unknown"),
  ].filter(Boolean));

  const mounts = Array.isArray(sample.disks) ? sample.disks : [];
  if (mounts.length === 0 && isNumber(sample.disk_percent)) {
    mounts.push({ mountpoint: sample.disk_mountpoint || "/", percent: sample.disk_percent,
      used_bytes: sample.disk_used_gb * 2 ** 30, total_bytes: sample.disk_total_gb * 2 ** 30 });
  }
  disks.replaceChildren(...(mounts.length ? mounts.map((disk) => {
    const filling = incidentLevel("disk_full_prediction", disk.mountpoint);
    const io = isNumber(disk.read_bytes_per_second)
      ? ` · read ${fmtBytes(disk.read_bytes_per_second, "/s")}, write ${fmtBytes(disk.write_bytes_per_second, "/s")}`
      : "";
    return meter(disk.mountpoint, fmtPercent(disk.percent), disk.percent,
      `${fmtBytes(disk.used_bytes)} of ${fmtBytes(disk.total_bytes)}${io}${filling ? " · filling up" : ""}`,
      worstLevel(levelOf("disk_percent", disk.mountpoint, disk.percent), filling || "unknown"),
      [disk.mountpoint, disk.device, disk.fstype].filter(Boolean).join(" · "));
  }) : [el("p", { class: "muted" }, "no disks")]));

  const interfaces = Array.isArray(sample.networks) ? sample.networks : [];
  networks.replaceChildren(...(interfaces.length ? interfaces.map((nic) => {
    const errors = (nic.errors_in_per_second || 0) + (nic.errors_out_per_second || 0);
    const drops = (nic.drops_in_per_second || 0) + (nic.drops_out_per_second || 0);
    const speed = isNumber(nic.speed_mbps) && nic.speed_mbps > 0 ? nic.speed_mbps * 125000 : null;
    const busiest = Math.max(nic.sent_bytes_per_second || 0, nic.recv_bytes_per_second || 0);
    const level = worstLevel(
      levelOf("network_recv_bytes_per_second", nic.interface, nic.recv_bytes_per_second),
      levelOf("network_sent_bytes_per_second", nic.interface, nic.sent_bytes_per_second),
      levelOf("network_errors_per_second", nic.interface, errors),
      levelOf("network_drops_per_second", nic.interface, drops));
    return meter(
      nic.interface + (nic.is_up === false ? " (down)" : ""),
      `↑ ${fmtBytes(nic.sent_bytes_per_second, "/s")}  ↓ ${fmtBytes(nic.recv_bytes_per_second, "/s")}`,
      speed ? (100 * busiest) / speed : null,
      [speed ? `${nic.speed_mbps} Mbit/s` : "",
        errors || drops ? `errors ${fmtNumber(errors, 2)}/s, drops ${fmtNumber(drops, 2)}/s` : ""]
        .filter(Boolean).join(" · "),
      level,
    );
  }) : [el("p", { class: "muted" }, "no interfaces")]));

  const devices = Array.isArray(sample.gpus) ? sample.gpus : [];
  gpus.replaceChildren(...(devices.length ? devices.map((gpu) => {
    const resource = gpu.uuid || String(gpu.gpu_index);
    const levels = [
      levelOf("gpu_utilization_percent", resource, gpu.utilization_percent),
      levelOf("gpu_memory_percent", resource, gpu.memory_percent),
      levelOf("gpu_temperature_celsius", resource, gpu.temperature_celsius),
    ];
    const worst = worstLevel(...levels);
    const memory = isNumber(gpu.memory_total_mib)
      ? `mem ${fmtPercent(gpu.memory_percent)} ` +
        `(${fmtNumber(gpu.memory_used_mib, 0)} / ${fmtNumber(gpu.memory_total_mib, 0)} MiB)`
      : "";
    const temperature = isNumber(gpu.temperature_celsius) ? `${fmtNumber(gpu.temperature_celsius, 0)} °C` : "";
    const power = isNumber(gpu.power_draw_watts) ? `${fmtNumber(gpu.power_draw_watts, 0)} W` : "";
    return meter(`GPU ${gpu.gpu_index}${gpu.name ? ` · ${gpu.name}` : ""}`,
      `util ${fmtPercent(gpu.utilization_percent)}`,
      gpu.utilization_percent, [memory, temperature, power].filter(Boolean).join(" · "), worst, gpu.uuid || "");
  }) : [el("p", { class: "muted" }, "no GPU")]));
  renderContainers(Array.isArray(sample.containers) ? sample.containers : []);
}

// ---------------------------------------------------------------- containers

/** The worst active incident of the shown host about the container `name` (its lifecycle or its levels), and the
 * metrics it is about. */
function containerIncident(name) {
  let level = null;
  const metrics = [];
  for (const incident of state.incidents) {
    if (incident.host !== state.host || incident.resource !== name) continue;
    if (!String(incident.metric || "").startsWith("container_")) continue;
    const status = String(incident.status || "").toLowerCase();
    if (!(status in LEVEL_RANK)) continue;
    metrics.push(metricLabel(incident.metric));
    if (level === null || LEVEL_RANK[status] > LEVEL_RANK[level]) level = status;
  }
  return { level, metrics };
}

/** "running (unhealthy)", "exited (code 5)", "exited (killed for memory)". */
function containerState(container) {
  const notes = [];
  if (container.health) notes.push(container.health);
  if (container.oom_killed) notes.push("killed for memory");
  else if (isNumber(container.exit_code) && container.state !== "running") notes.push(`code ${container.exit_code}`);
  return notes.length ? `${container.state} (${notes.join(", ")})` : container.state;
}

/** The colour of a container's state: ok running, warning where something is wrong, info otherwise (paused,
 * created, exited with 0). */
function containerStateKind(container) {
  const failed = isNumber(container.exit_code) && container.exit_code !== 0 && container.state !== "running";
  if (container.health === "unhealthy" || container.oom_killed || failed
    || ["restarting", "dead", "gone"].includes(container.state)) return "warning";
  return container.state === "running" ? "ok" : "info";
}

/** The containers table of the host view: a row per container of the sample; hidden when it lists none. */
function renderContainers(containers) {
  const panel = $("#containers-panel");
  panel.hidden = containers.length === 0;
  const body = $("#containers-table tbody");
  body.replaceChildren();
  const running = containers.filter((container) => container.state === "running").length;
  $("#containers-summary").textContent = containers.length ? `${running} of ${containers.length} running` : "";
  for (const container of containers) {
    const incident = containerIncident(container.name);
    const level = worstLevel(
      levelOf("container_cpu_cores", container.name, container.cpu_cores),
      levelOf("container_cpu_host_percent", container.name, container.cpu_host_percent),
      levelOf("container_memory_percent", container.name, container.memory_percent),
      incident.level || "unknown");
    const restarts = isNumber(container.restart_count) ? String(container.restart_count) : "–";
    const recent = isNumber(container.restarts_in_window) && container.restarts_in_window > 0
      ? el("div", { class: "muted" }, `${container.restarts_in_window} recently`) : null;
    body.append(el("tr", { class: `level-${level}`, dataset: { container: container.name, level } },
      el("th", { scope: "row", title: [container.image, container.engine, container.container_id]
        .filter(Boolean).join(" · ") }, container.name,
      container.image ? el("div", { class: "muted" }, container.image) : null),
      el("td", {}, badge(containerState(container), containerStateKind(container))),
      el("td", { class: "nowrap", dataset: { figure: "cpu-cores" } },
        isNumber(container.cpu_cores) ? `${fmtNumber(container.cpu_cores, 2)} cores` : "–"),
      el("td", { class: "nowrap", dataset: { figure: "cpu-host" } }, fmtPercent(container.cpu_host_percent)),
      el("td", { class: "nowrap", dataset: { figure: "memory" } }, `${fmtBytes(container.memory_used_bytes)} / ${
        isNumber(container.memory_limit_bytes) ? fmtBytes(container.memory_limit_bytes) : "no limit"}`),
      el("td", { class: "nowrap", dataset: { figure: "memory-percent" } }, fmtPercent(container.memory_percent)),
      el("td", { class: "nowrap" }, `↓ ${fmtBytes(container.net_rx_bytes_per_second, "/s")}`,
        el("div", {}, `↑ ${fmtBytes(container.net_tx_bytes_per_second, "/s")}`)),
      el("td", { class: "nowrap" }, `read ${fmtBytes(container.block_read_bytes_per_second, "/s")}`,
        el("div", {}, `write ${fmtBytes(container.block_write_bytes_per_second, "/s")}`)),
      el("td", { class: "nowrap", dataset: { figure: "restarts" } }, restarts, recent),
      el("td", { dataset: { figure: "incident" } }, incident.level
        ? badge(incident.level, incident.level) : el("span", { class: "muted" }, "none"),
      incident.metrics.length ? el("div", { class: "muted" }, incident.metrics.join(", ")) : null)));
  }
  labelCells("#containers-table");
}

// ---------------------------------------------------------------- history charts

const CHARTS = [
  { id: "chart-cpu", column: "cpu_percent", unit: "%", max: 100 },
  { id: "chart-memory", column: "memory_percent", unit: "%", max: 100 },
  { id: "chart-disk", column: "disk_percent", unit: "%", max: 100 },
  { id: "chart-network", columns: ["network_sent_bytes_per_second", "network_recv_bytes_per_second"], unit: "B/s" },
];

const BINARY_STEPS = [0, 10, 20, 30].flatMap((power) => [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
  .map((step) => step * 2 ** power));

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function chartSeries(spec) {
  const first = cssVar("--series-1");
  const second = cssVar("--series-2");
  const value = (u, v) => {
    if (v === null || v === undefined) return "–";
    return spec.unit === "%" ? `${v.toFixed(1)}%` : fmtBytes(v, "/s");
  };
  if (spec.columns) {
    return [
      { label: "sent (avg)", stroke: first, width: 1.5, value },
      { label: "received (avg)", stroke: second, width: 1.5, value },
    ];
  }
  return [
    { label: "avg", stroke: first, width: 1.5, fill: `${first}22`, value },
    { label: "max", stroke: second, width: 1, dash: [4, 3], value },
  ];
}

function chartOptions(spec, width, range) {
  const text = cssVar("--muted");
  const grid = cssVar("--grid");
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const yAxis = { ...axis, size: spec.unit === "B/s" ? 78 : 50 };
  if (spec.unit === "B/s") {
    yAxis.values = (u, ticks) => ticks.map((tick) => fmtBytes(tick, "/s"));
    yAxis.incrs = BINARY_STEPS; // 256 KiB/s, 512 KiB/s ... rather than 195 KiB/s for 200 000
  } else {
    yAxis.values = (u, ticks) => ticks.map((tick) => `${tick}%`);
  }
  return {
    width,
    height: 200,
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: () => [range.start, range.end] },
      y: { range: (u, min, max) => [0, spec.max ? Math.max(spec.max, max || 0) : Math.max(1, (max || 0) * 1.1)] },
    },
    axes: [axis, yAxis],
    series: [{ value: (u, v) => (v ? fmtTime(new Date(v * 1000)) : "–") }, ...chartSeries(spec)],
  };
}

/** Columns of [times, series...] for uPlot, oldest first, from the API's buckets (newest first). Buckets
 * without samples are not returned: where the distance between two is well above both the bucket width and the
 * usual distance (samples can be sparser than buckets), a null point breaks the line. */
function chartData(points, spec, step) {
  const sorted = points.slice().sort((a, b) => a.t - b.t);
  const distances = sorted.slice(1).map((point, index) => point.t - sorted[index].t).sort((a, b) => a - b);
  const usual = distances.length ? distances[Math.floor(distances.length / 2)] : 0;
  const gap = 2.5 * Math.max(step || 0, usual);
  const ordered = [];
  for (const point of sorted) {
    const previous = ordered[ordered.length - 1];
    if (previous && gap && point.t - previous.t > gap) ordered.push({ t: previous.t + gap / 2, values: {} });
    ordered.push(point);
  }
  const times = ordered.map((point) => point.t);
  if (spec.columns) {
    return [times, ...spec.columns.map((column) => ordered.map((point) => point.values[column]?.avg ?? null))];
  }
  return [times,
    ordered.map((point) => point.values[spec.column]?.avg ?? null),
    ordered.map((point) => point.values[spec.column]?.max ?? null)];
}

function drawCharts(points, range, step) {
  for (const spec of CHARTS) {
    const body = document.querySelector(`#${spec.id} .chart-body`);
    const data = chartData(points, spec, step);
    const hasData = data.slice(1).some((series) => series.some((value) => value !== null));
    const figure = document.getElementById(spec.id);
    figure.dataset.points = String(hasData ? points.length : 0); // buckets drawn (gap markers not counted)
    figure.dataset.gaps = String(hasData ? data[0].length - points.length : 0);
    if (!hasData) {
      if (state.charts[spec.id]) {
        state.charts[spec.id].destroy();
        delete state.charts[spec.id];
      }
      body.replaceChildren(el("div", { class: "chart-empty" }, "no samples in this range"));
      continue;
    }
    const existing = state.charts[spec.id];
    if (existing && existing.rangeKey === state.range) {
      existing.range.start = range.start;
      existing.range.end = range.end;
      existing.plot.setData(data);
      continue;
    }
    if (existing) existing.plot.destroy();
    body.replaceChildren();
    const shared = { start: range.start, end: range.end };
    const plot = new uPlot(chartOptions(spec, Math.max(body.clientWidth, 200), shared), data, body);
    state.charts[spec.id] = { plot, range: shared, rangeKey: state.range, destroy: () => plot.destroy() };
  }
}

function resizeCharts() {
  for (const spec of CHARTS) {
    const chart = state.charts[spec.id];
    if (!chart) continue;
    const body = document.querySelector(`#${spec.id} .chart-body`);
    const width = Math.max(body.clientWidth, 200);
    if (chart.plot.width !== width) chart.plot.setSize({ width, height: 200 });
  }
}

function dropCharts() {
  for (const id of Object.keys(state.charts)) {
    state.charts[id].destroy();
    delete state.charts[id];
  }
}

// ---------------------------------------------------------------- loading each part

/** Every host with its status; the picker lists them, the fleet view shows them. */
async function loadHosts() {
  const payload = await api("/api/v1/hosts");
  state.fleet = items(payload);
  const hosts = state.fleet.map((host) => host.name);
  if (state.view === null || (state.view === "fleet" && hosts.length < 2)) {
    state.view = hosts.length > 1 ? "fleet" : "host";
  }
  state.fleetTime = payload.time;
  showView();
  const picker = $("#host-picker");
  if (!state.host || !hosts.includes(state.host)) state.host = hosts[0] || "";
  const current = [...picker.options].map((option) => option.value).join("\n");
  if (current !== hosts.join("\n")) {
    picker.replaceChildren(...hosts.map((host) => el("option", { value: host }, host)));
  }
  picker.value = state.host;
  picker.disabled = hosts.length === 0;
  return hosts;
}

// ---------------------------------------------------------------- the fleet

const STATUS_ORDER = { silent: 0, up: 1, "never seen": 2, maintenance: 3 };

/** Problems first: silent hosts, then hosts by their worst incident, then by name. */
function fleetOrder(a, b) {
  const status = (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9);
  if (status) return status;
  const level = (INCIDENT_RANK[b.worst_level] ?? -1) - (INCIDENT_RANK[a.worst_level] ?? -1);
  return level || String(a.name).localeCompare(String(b.name));
}

const INCIDENT_RANK = { pending: 0, warning: 1, critical: 2 };

/** A CPU, memory or disk figure as a small bar with its value in words, coloured by the catalogue's levels. */
function fleetMeter(metric, resource, value) {
  if (!isNumber(value)) return el("span", { class: "muted" }, "–");
  const level = thresholdLevel(metric, resource, value);
  return el("div", { class: `meter compact level-${level}`, dataset: { level } },
    el("span", { class: "figure" }, fmtPercent(value)),
    el("div", { class: "bar", role: "presentation" },
      el("span", { style: `width: ${Math.max(0, Math.min(100, value))}%` })));
}

function fmtSkew(seconds) {
  if (!isNumber(seconds)) return "–";
  const sign = seconds > 0 ? "+" : seconds < 0 ? "−" : "";
  return `${sign}${fmtDuration(Math.abs(seconds))}`;
}

/** The address of a host's view: a real link, so it opens in a new tab too. */
function hostHref(name) {
  return `?${new URLSearchParams({ host: name, range: state.range })}`;
}

function renderFleet() {
  const hosts = state.fleet.slice().sort(fleetOrder);
  const body = $("#fleet-table tbody");
  body.replaceChildren();
  const counts = {};
  for (const host of hosts) counts[host.status] = (counts[host.status] || 0) + 1;
  $("#fleet-summary").textContent = `${hosts.length} hosts: ` + Object.keys(STATUS_ORDER)
    .filter((status) => counts[status]).map((status) => `${counts[status]} ${status}`).join(", ");
  $("#fleet-panel").dataset.checkedAt = state.fleetTime || "";
  if (hosts.length === 0) {
    emptyRow(body, 9, "No hosts yet.");
    return;
  }
  for (const host of hosts) {
    const link = el("a", { href: hostHref(host.name), class: "host-link",
      onclick: (event) => {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return; // a new tab: as is
        event.preventDefault();
        openHost(host.name);
      } }, host.name);
    const incidents = host.worst_level
      ? badge(`${host.worst_level} (${host.active_incidents} active)`, host.worst_level)
      : el("span", { class: "muted" }, "none");
    const seen = parseTime(host.last_seen_at);
    const agent = host.registered
      ? [host.agent_version || "–", host.source ? el("div", { class: "muted" }, host.source) : null]
      : [el("span", { class: "muted", title: "no agent: its samples are stored by a monitor" }, "monitor")];
    const silentFor = seen && host.status === "silent"
      ? el("div", { class: "muted" }, `silent after ${fmtDuration(host.silent_after_seconds)}`) : null;
    body.append(el("tr", { dataset: { host: host.name, status: host.status, level: host.worst_level || "none" } },
      el("th", { scope: "row" }, link),
      el("td", {}, badge(host.status, `status-${host.status.replace(/\s+/g, "-")}`)),
      el("td", {}, incidents),
      el("td", { class: "figure-cell" }, fleetMeter("cpu_percent", "", host.cpu_percent)),
      el("td", { class: "figure-cell" }, fleetMeter("memory_percent", "", host.memory_percent)),
      el("td", { class: "figure-cell", title: host.disk_mountpoint || "" },
        fleetMeter("disk_percent", host.disk_mountpoint || "", host.disk_percent)),
      el("td", { class: "nowrap" }, seen
        ? el("time", { datetime: seen.toISOString(), title: seen.toString() }, fmtRelative(host.last_seen_at))
        : el("span", { class: "muted" }, "never"), silentFor),
      el("td", {}, ...agent),
      el("td", { class: "nowrap" }, fmtSkew(host.clock_skew_seconds))));
  }
  labelCells("#fleet-table");
}

/** Shows the fleet or the host view's panels and controls. */
function showView() {
  const fleet = state.view === "fleet";
  document.body.dataset.view = state.view || "";
  $("#fleet-panel").hidden = !fleet;
  $("#current-panel").hidden = fleet;
  if (fleet) $("#containers-panel").hidden = true; // the host view shows it when the host's sample lists any
  $("#history-panel").hidden = fleet;
  $("#host-control").hidden = fleet;
  $("#range-picker").hidden = fleet;
  $("#fleet-button").hidden = fleet || state.fleet.length < 2;
}

/** The host view of `name`, as a new entry in the browser's history (Back returns to the fleet). */
function openHost(name) {
  state.host = name;
  state.view = "host";
  rememberView(true);
  dropCharts();
  showView();
  window.scrollTo(0, 0);
  refresh();
}

function showFleet(push = true) {
  state.view = "fleet";
  if (push) {
    const url = new URL(window.location.href);
    url.searchParams.delete("host");
    url.searchParams.delete("range");
    window.history.pushState(null, "", url);
  }
  dropCharts();
  showView();
  renderFleet();
  refresh();
}

/** The metric catalogue: every metric's labels, unit, columns and, for a graded one, its levels. */
async function loadCatalogue() {
  const payload = await api("/monitoring/catalogue");
  const catalogue = {};
  for (const spec of items(payload)) catalogue[spec.metric] = { ...spec, overrides: spec.overrides || {} };
  state.catalogue = catalogue;
}

async function loadCurrent() {
  if (!state.host) {
    renderCurrent(null);
    return;
  }
  // The server's own machine is sampled live; any other host shows its newest stored sample.
  if (state.serverHost === null || state.serverHost === state.host) {
    const live = await api("/monitoring/metrics/current");
    state.serverHost = live.hostname;
    if (live.hostname === state.host) {
      renderCurrent(live, true);
      return;
    }
  }
  const sample = await api(`/monitoring/metrics/latest${query({ hostname: state.host })}`, { accept: [404] });
  renderCurrent(sample && sample.timestamp ? sample : null, false);
}

/** The smallest range (never smaller than the one shown) that holds the host's newest stored sample, so the page
 * does not open on empty charts when the host last reported days ago; the largest when none does. */
async function fitRange() {
  const newest = await api(`/monitoring/metrics/latest${query({ hostname: state.host })}`, { accept: [404] });
  const moment = parseTime(newest && newest.timestamp);
  if (!moment) return;
  const ageSeconds = (Date.now() - moment.getTime()) / 1000;
  const names = Object.keys(RANGES).filter((name) => RANGES[name] >= RANGES[state.range]);
  const fitting = names.find((name) => RANGES[name] > ageSeconds) || names[names.length - 1];
  if (fitting !== state.range) {
    state.range = fitting;
    showRange();
  }
}

async function loadHistory() {
  if (!state.rangeClicked && state.host && state.fittedHost !== state.host) {
    await fitRange();
    state.fittedHost = state.host;
  }
  const seconds = RANGES[state.range];
  const end = new Date();
  const start = new Date(end.getTime() - seconds * 1000);
  const range = { start: start.getTime() / 1000, end: end.getTime() / 1000 };
  if (!state.host) {
    state.historyRequest += 1;
    drawCharts([], range);
    $("#history-info").textContent = "";
    return;
  }
  const request = ++state.historyRequest;
  const payload = await api(`/monitoring/metrics${query({
    hostname: state.host, start_time: start.toISOString(), end_time: end.toISOString(), points: CHART_POINTS,
  })}`);
  if (request !== state.historyRequest) return;
  const points = items(payload).map((bucket) => ({ t: parseTime(bucket.time).getTime() / 1000, values: bucket }));
  const samples = points.reduce((sum, point) => sum + (point.values.samples || 0), 0);
  $("#history-info").textContent = `${points.length} points from ${samples} samples`;
  drawCharts(points, range, payload.step_seconds);
}

async function loadIncidents() {
  const payload = await api(`/incidents${query({ status: "active", limit: 100 })}`);
  state.incidents = items(payload);
  const body = $("#incidents-table tbody");
  body.replaceChildren();
  $("#incidents-count").textContent = state.incidents.length ? `${state.incidents.length} active` : "";
  if (state.incidents.length === 0) {
    emptyRow(body, 5, "No active incidents.");
    return;
  }
  for (const incident of state.incidents) {
    const status = String(incident.status || "").toLowerCase();
    const acknowledged = Boolean(incident.acknowledged_at);
    const ack = acknowledged
      ? el("span", { class: "muted", title: `acknowledged ${incident.acknowledged_at}` }, "acked")
      : el("button", { type: "button", class: "secondary", onclick: () => acknowledge(incident) }, "Ack");
    const resource = shortResource(incident.resource);
    const since = parseTime(incident.started_at);
    body.append(el("tr", { dataset: { incidentId: incident.id, host: incident.host },
      class: incident.host === state.host ? "this-host" : null },
    el("td", {}, badge(status + (incident.flapping ? " (flapping)" : ""), status)),
    el("td", {},
      el("span", { title: incident.metric }, metricLabel(incident.metric)),
      resource ? el("span", { title: incident.resource }, ` ${resource}`) : null,
      el("div", { class: "muted" }, incident.host)),
    el("td", { class: "nowrap" }, fmtValue(incident.metric, incident.last_value),
      isNumber(incident.max_value)
        ? el("div", { class: "muted" }, `max ${fmtValue(incident.metric, incident.max_value)}`) : null),
    el("td", { class: "nowrap" }, since
      ? el("time", { datetime: since.toISOString(), title: since.toString() }, fmtRelative(incident.started_at))
      : "–"),
    el("td", { class: "actions" }, ack)));
  }
  labelCells("#incidents-table");
}

/** A GPU UUID is long: its first group is enough to tell GPUs apart on screen (the tooltip has all of it). */
function shortResource(resource) {
  if (!resource) return "";
  const gpu = /^((?:GPU|MIG)-[0-9a-fA-F]{8})[0-9a-fA-F-]{20,}$/.exec(resource);
  return gpu ? `${gpu[1]}…` : resource;
}

/** A value with its metric's unit (from the catalogue). */
function fmtValue(metric, value) {
  if (!isNumber(value)) return "–";
  const unit = state.catalogue && state.catalogue[metric] ? state.catalogue[metric].unit : "";
  if (unit === "%") return `${value.toFixed(1)}%`;
  if (unit === "B/s") return fmtBytes(value, "/s");
  if (unit === "C") return `${value.toFixed(0)} °C`;
  return `${fmtNumber(value, 2)}${unit ? ` ${unit}` : ""}`;
}

/** Each cell gets its column's name, which the phone layout shows in front of it. */
function labelCells(selector) {
  const table = document.querySelector(selector);
  const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  for (const row of table.querySelectorAll("tbody tr:not(.empty)")) {
    [...row.cells].forEach((cell, index) => {
      if (names[index]) cell.dataset.label = names[index];
    });
  }
}

async function loadNotifications() {
  const payload = await api(`/monitoring/notifications${query({ level: state.level, limit: 20 })}`);
  const rows = items(payload);
  const body = $("#notifications-table tbody");
  body.replaceChildren();
  if (rows.length === 0) {
    emptyRow(body, 4, state.level ? `No ${state.level} notifications.` : "No notifications.");
    return;
  }
  for (const row of rows) {
    body.append(el("tr", { dataset: { level: row.level } },
      el("td", { class: "nowrap" }, timeNode(row.sent_at)),
      el("td", {}, badge(row.level)),
      el("td", {}, row.title),
      el("td", { class: "message" }, row.message)));
  }
  labelCells("#notifications-table");
}

async function loadJobs() {
  const jobs = items(await api("/jobs"));
  const body = $("#jobs-table tbody");
  body.replaceChildren();
  if (jobs.length === 0) {
    emptyRow(body, 5, "No jobs.");
    return;
  }
  for (const job of jobs) {
    const last = job.last_run || null;
    const lastCell = last
      ? el("td", { class: "nowrap" }, badge(last.status), " ", timeNode(last.started_at || last.scheduled_for))
      : el("td", {}, badge("never"));
    const run = el("button", { type: "button", class: "run-now", dataset: { jobId: job.id },
      onclick: (event) => runNow(job, event.currentTarget) }, "Run now");
    body.append(el("tr", { dataset: { jobId: job.id } },
      el("td", {}, jobName(job.name, "strong"), job.enabled ? null : el("span", { class: "muted" }, " (disabled)"),
        job.description ? el("div", { class: "muted" }, job.description) : null),
      el("td", { class: "nowrap" }, el("code", {}, job.cron_expression),
        job.timezone ? el("span", { class: "muted" }, ` ${job.timezone}`) : null),
      el("td", { class: "nowrap" }, nextRunCell(job)),
      lastCell,
      el("td", { class: "actions" }, run)));
  }
  labelCells("#jobs-table");
}

function nextRunCell(job) {
  if (!job.enabled) return el("span", { class: "muted" }, "disabled");
  if (job.schedule_error) return el("span", { class: "error-text" }, job.schedule_error);
  return job.next_run_at ? timeNode(job.next_run_at, true) : el("span", { class: "muted" }, "–");
}

async function loadExecutions() {
  const rows = items(await api(`/jobs/executions${query({ limit: 15 })}`));
  const body = $("#executions-table tbody");
  body.replaceChildren();
  if (rows.length === 0) {
    emptyRow(body, 6, "No runs yet.");
    return;
  }
  for (const run of rows) {
    const row = el("tr", { class: `clickable${run.id === state.executionId ? " selected" : ""}`,
      dataset: { executionId: run.id }, tabindex: 0, title: "Show this run's output",
      onclick: () => showExecution(run.id, true).catch(reportError),
      onkeydown: (event) => { if (event.key === "Enter") showExecution(run.id, true).catch(reportError); } },
    el("td", {}, String(run.id)),
    el("td", {}, jobName(run.job_name)),
    el("td", {}, badge(run.status)),
    el("td", {}, run.trigger),
    el("td", { class: "nowrap" }, timeNode(run.started_at || run.scheduled_for)),
    el("td", { class: "nowrap" }, fmtDuration(run.duration_seconds)));
    body.append(row);
  }
  labelCells("#executions-table");
}

async function loadHealth() {
  const payload = await api("/monitoring/health", { accept: [503] });
  const node = $("#health");
  const status = payload && payload.status ? String(payload.status) : "unknown";
  node.className = `badge ${status}`;
  node.textContent = status;
  const facts = [];
  if (payload && payload.scheduler) {
    const age = payload.scheduler.heartbeat_age_seconds;
    facts.push(`scheduler: ${payload.scheduler.ok ? "ok" : "not running"}` +
      (isNumber(age) ? `, heartbeat ${fmtDuration(age)} ago` : ""));
  }
  if (payload && payload.monitoring) {
    const age = payload.monitoring.age_seconds;
    facts.push(`last monitoring sample: ${isNumber(age) ? `${fmtDuration(age)} ago` : "none"}` +
      (payload.monitoring.ok === false ? " (late)" : ""));
  }
  if (payload && payload.database && !payload.database.ok) facts.push("database unreachable");
  node.title = facts.join("\n");
  const reasons = status === "healthy" ? [] : healthReasons(payload || {});
  const shown = $("#health-reasons");
  shown.textContent = reasons.join("; ");
  shown.hidden = reasons.length === 0;
}

/** Why the platform is unhealthy: the server's own words ("reasons"), or read from the checks' fields. */
function healthReasons(payload) {
  if (Array.isArray(payload.reasons)) return payload.reasons.map(String);
  const reasons = [];
  if (payload.database && payload.database.ok === false) reasons.push("the database is unreachable");
  if (payload.scheduler && payload.scheduler.ok === false) reasons.push("no scheduler is running");
  if (payload.monitoring && payload.monitoring.ok === false) {
    reasons.push(payload.monitoring.reason || "the monitoring job is late");
  }
  return reasons;
}

// ---------------------------------------------------------------- actions

async function runNow(job, button) {
  const message = $("#jobs-message");
  if (!state.token) {
    message.textContent = "Enter the API token below to run jobs.";
    $("#token-input").focus();
    return;
  }
  button.disabled = true;
  message.textContent = `Starting ${job.name}…`;
  try {
    const run = await api(`/jobs/${encodeURIComponent(job.id)}/execute`, { method: "POST" });
    const id = run && (run.id ?? run.execution_id);
    message.textContent = `${job.name}: run ${id ?? ""} started`;
    if (id !== undefined && id !== null) await showExecution(id, true);
    await loadExecutions();
  } catch (error) {
    message.textContent = `${job.name}: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

async function acknowledge(incident) {
  if (!state.token) {
    $("#incidents-count").textContent = "Enter the API token below to acknowledge.";
    $("#token-input").focus();
    return;
  }
  try {
    await api(`/incidents/${encodeURIComponent(incident.id)}/ack`, { method: "POST" });
    await loadIncidents();
  } catch (error) {
    $("#incidents-count").textContent = error.message;
  }
}

async function showExecution(id, reveal = false) {
  state.executionId = id;
  const run = await api(`/jobs/executions/${encodeURIComponent(id)}`);
  const panel = $("#execution-detail");
  panel.hidden = false;
  panel.dataset.executionId = String(run.id);
  panel.dataset.status = String(run.status);
  $("#execution-title").replaceChildren(`Run ${run.id} of `, jobName(run.job_name));
  const facts = [
    ["Status", badge(run.status)],
    ["Trigger", run.trigger],
    ["Scheduled for", timeNode(run.scheduled_for)],
    ["Started", timeNode(run.started_at)],
    ["Completed", timeNode(run.completed_at)],
    ["Duration", fmtDuration(run.duration_seconds)],
    ["Exit code", run.exit_code ?? "–"],
    ["Retries", String(run.retry_count ?? 0)],
    ["Host", run.hostname || "–"],
  ];
  $("#execution-facts").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  const { errors, log } = splitStderr(run.stderr || "");
  if (run.error_message) errors.unshift(run.error_message);
  showBlock("execution-errors", errors.join("\n"));
  $("#execution-stdout").textContent = run.stdout || "(no output)";
  showBlock("execution-log", log.join("\n"));
  if (reveal) panel.scrollIntoView({ block: "nearest" });
  for (const row of document.querySelectorAll("#executions-table tbody tr")) {
    row.classList.toggle("selected", row.dataset.executionId === String(run.id));
  }
  // A run still going is shown again until it ends.
  if (["pending", "running"].includes(String(run.status))) {
    setTimeout(() => {
      if (state.executionId === id) showExecution(id).then(loadExecutions).catch(reportError);
    }, 1000);
  }
}

/** Log lines at DEBUG, INFO or WARNING on stderr are the job's ordinary log; every other line (ERROR, CRITICAL,
 * a traceback, a bare message) is an error. */
const LOG_LINE = /\b(DEBUG|INFO|WARNING|WARN)\b/;

function splitStderr(text) {
  const errors = [];
  const log = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    (LOG_LINE.test(line) && !/\b(ERROR|CRITICAL|FATAL)\b/.test(line) ? log : errors).push(line);
  }
  return { errors, log };
}

/** A labelled <pre> of the run detail, hidden with its heading when it has nothing to show. */
function showBlock(id, text) {
  $(`#${id}`).textContent = text;
  $(`#${id}`).hidden = !text;
  $(`#${id}-title`).hidden = !text;
}

// ---------------------------------------------------------------- refresh loop

function reportError(error) {
  const node = $("#refresh-error");
  node.hidden = false;
  if (error instanceof ApiError && error.status === 401) {
    node.textContent = "This server wants the API token for reading too (API_READ_AUTH): enter it below.";
  } else {
    node.textContent = error instanceof ApiError ? error.message : `${error.name}: ${error.message}`;
  }
}

/** Every part once; a refresh asked for while one runs (a new host) runs again right after it. */
async function refresh() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    do {
      state.refreshAgain = false;
      await refreshOnce();
    } while (state.refreshAgain);
  })();
  try {
    await state.refreshing;
  } finally {
    state.refreshing = null;
  }
}

async function refreshOnce() {
  const failures = [];
  const attempt = async (part) => {
    try {
      await part();
    } catch (error) {
      failures.push(error);
    }
  };
  // Thresholds (levels, labels, units) and active incidents first: the figures are coloured by both.
  // The catalogue every time: its levels are those of the server's .env as it is now.
  await Promise.all([attempt(loadHosts), attempt(loadCatalogue), attempt(loadHealth), attempt(checkToken)]);
  if (state.view === "fleet") renderFleet(); // its bars are coloured by the catalogue's levels: after it
  await attempt(loadIncidents);
  const hostParts = state.view === "host" ? [attempt(loadCurrent), attempt(loadHistory)] : [];
  await Promise.all([...hostParts, attempt(loadNotifications), attempt(loadJobs), attempt(loadExecutions)]);
  const node = $("#refresh-error");
  if (failures.length) {
    reportError(failures[0]); // "updated" keeps the time of the last complete refresh
  } else {
    node.hidden = true;
    node.textContent = "";
    const now = new Date();
    const updated = $("#updated-at");
    updated.dateTime = now.toISOString();
    updated.textContent = now.toLocaleTimeString();
  }
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
}

function schedule() {
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    if (!document.hidden) refresh();
  }, REFRESH_SECONDS * 1000);
}

// ---------------------------------------------------------------- wiring

/** The host and range in the address too, so the page can be bookmarked as it is; `push`: as a new entry in
 * the browser's history (a host opened from the fleet), not in place of the current one. */
function rememberView(push = false) {
  localStorage.setItem(STORE.host, state.host);
  localStorage.setItem(STORE.range, state.range);
  const url = new URL(window.location.href);
  url.searchParams.set("host", state.host);
  url.searchParams.set("range", state.range);
  if (push) window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
}

function showRange() {
  for (const button of document.querySelectorAll("#range-picker button")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === state.range));
  }
}

const TOKEN_WORDS = {
  accepted: "token accepted",
  refused: "token refused: it is not this server's API_TOKEN",
  "none sent": "no token: read-only (actions need the API token)",
  "not needed": "no token needed: this server has no API_TOKEN, so actions are off",
};

/** Whether the stored token works, asked of the server (GET /monitoring/token changes nothing). */
async function checkToken() {
  let verdict;
  try {
    verdict = (await api("/monitoring/token")).token;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
    verdict = state.token ? "refused" : "none sent"; // API_READ_AUTH=true: even this read wants the token
  }
  const node = $("#token-state");
  node.dataset.verdict = verdict;
  node.textContent = TOKEN_WORDS[verdict] || verdict;
  node.className = verdict === "refused" ? "error-text" : "muted";
}

/** Until the server has answered: each refresh asks again (checkToken). */
function showTokenState() {
  const node = $("#token-state");
  node.className = "muted";
  delete node.dataset.verdict;
  node.textContent = state.token ? "checking the token…" : "no token";
}

function init() {
  showRange();
  showTokenState();
  $("#level-filter").value = state.level;

  $("#range-picker").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-range]");
    if (!button) return;
    state.rangeClicked = true;
    if (button.dataset.range === state.range) return;
    state.range = button.dataset.range;
    rememberView();
    showRange();
    loadHistory().catch(reportError);
  });
  $("#host-picker").addEventListener("change", (event) => {
    state.host = event.target.value;
    rememberView();
    dropCharts();
    refresh();
  });
  $("#level-filter").addEventListener("change", (event) => {
    state.level = event.target.value;
    localStorage.setItem(STORE.level, state.level);
    loadNotifications().catch(reportError);
  });
  $("#refresh-button").addEventListener("click", () => refresh());
  $("#fleet-button").addEventListener("click", () => showFleet());
  // Back and Forward between the fleet and a host's view.
  window.addEventListener("popstate", () => {
    const host = new URLSearchParams(window.location.search).get("host");
    if (host) {
      state.host = host;
      state.view = "host";
      dropCharts();
      showView();
      refresh();
    } else if (state.fleet.length > 1) {
      showFleet(false);
    }
  });
  $("#close-execution").addEventListener("click", () => {
    state.executionId = null;
    $("#execution-detail").hidden = true;
    for (const row of document.querySelectorAll("#executions-table tr.selected")) row.classList.remove("selected");
  });
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("#token-input").value.trim();
    $("#token-input").value = "";
    if (state.token) localStorage.setItem(STORE.token, state.token);
    else localStorage.removeItem(STORE.token);
    showTokenState();
    refresh();
  });
  $("#token-clear").addEventListener("click", () => {
    state.token = "";
    localStorage.removeItem(STORE.token);
    showTokenState();
    checkToken().catch(reportError);
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    dropCharts();
    loadHistory().catch(reportError);
  });
  new ResizeObserver(() => resizeCharts()).observe($("#history-panel"));

  refresh();
  schedule();
}

init();
