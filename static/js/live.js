// 运行监控: the page was painted with the last second's figures; this socket subscribes to
// `live.figures` (PROTOCOL.md, README) and repaints them every second. A socket that closes
// is opened again after a pause; a logged-out one stays closed.
const LOST_AUTHENTICATION = 4001; // close code, PROTOCOL.md
const MAX_BACKOFF_MS = 30_000;
const root = document.getElementById("live");
const status = document.getElementById("live-status");
const reasons = JSON.parse(root.dataset.reasons);
let retries = 0;

const sum = (values) => Object.values(values).reduce((total, value) => total + value, 0);
const FORMATS = {
  int: (value) => String(value),
  rate: (value) => value.toFixed(1),
  sum: (value) => sum(value).toFixed(1),
  deadline: (value) => (value === null ? "无" : `${Math.round(value)} 秒后`),
};

function row(cells) {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

function fill(body, rows, empty, columns) {
  if (rows.length === 0) {
    const tr = row([empty]);
    tr.firstChild.colSpan = columns;
    body.replaceChildren(tr);
  } else {
    body.replaceChildren(...rows);
  }
}

function show(figures) {
  for (const element of root.querySelectorAll("[data-figure]")) {
    element.textContent = FORMATS[element.dataset.format](figures[element.dataset.figure]);
  }
  const refused = Object.entries(figures.beats_refused)
    .filter(([, value]) => value > 0)
    .map(([reason, value]) => row([reasons[reason] ?? reason, value.toFixed(1)]));
  fill(document.getElementById("live-refused"), refused, "无", 2);
  const nodes = figures.nodes.map((node) =>
    row([
      node.node,
      String(node.learners),
      String(node.sockets),
      node.beats_accepted.toFixed(1),
      sum(node.beats_refused).toFixed(1),
      node.answers.toFixed(1),
      node.errors.toFixed(1),
      node.redis_ms.toFixed(1),
      node.postgres_ms.toFixed(1),
    ]),
  );
  fill(document.getElementById("live-nodes"), nodes, "暂无节点数据", 9);
  const at = new Date(figures.at_ms).toLocaleTimeString("zh-CN", { hour12: false });
  status.textContent = `实时数据，更新于 ${at}`;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    retries = 0;
    socket.send(JSON.stringify({ type: "live.subscribe" }));
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "live.figures") show(message.figures);
    else if (message.type === "error") status.textContent = message.message;
  });
  socket.addEventListener("close", (event) => {
    if (event.code === LOST_AUTHENTICATION) {
      status.textContent = "登录已失效，请重新登录";
      return;
    }
    status.textContent = "连接已断开，正在重新连接…";
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** retries);
    retries += 1;
    setTimeout(connect, delay);
  });
}

connect();
