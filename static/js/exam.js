// The exam page (F21). Answers and 标记 travel over the websocket and count as kept only
// once the server acknowledges them (`exam.saved`); what is not yet acknowledged is sent
// again after a reconnect. The countdown runs from the server's deadline and the offset
// between the server's clock and this one, so a drifting or sleeping tab cannot stretch it.
import { showNotice } from "./unread.js";

const root = document.querySelector("#exam");
const attempt = Number(root.dataset.attempt);
const grace = Number(root.dataset.grace);
const resultUrl = root.dataset.resultUrl;
const countdown = root.querySelector("#countdown");
const status = root.querySelector("#exam-status");
const submitButton = root.querySelector("#submit-exam");
const dialog = document.querySelector("#confirm-dialog");
const questions = [...root.querySelectorAll(".question")];

const LOST_AUTHENTICATION = 4001; // close code, PROTOCOL.md
const MAX_BACKOFF_MS = 10_000;
const URGENT_MS = 5 * 60_000;
// After the deadline and grace the server submits; if no result arrives, go and look.
const RESULT_WAIT_MS = 15_000;
const TIME_UP = "考试时间已到，系统正在自动交卷…";
const OFFLINE = "网络连接已断开，正在重新连接…已保存的答案不会丢失";
const LOGGED_OUT = "登录已失效，请重新登录后继续考试（已保存的答案不会丢失）";

let deadline = Number(root.dataset.deadline);
let offset = Number(root.dataset.serverNow) - Date.now(); // server clock minus this clock
let socket = null;
let joined = false;
let finished = false; // submitted, time up or logged out: answers are closed
let submitting = false;
let retries = 0;
let seq = 0;
const answers = new Map(); // question → chosen keys, as on the page
const flags = new Set();
const unsaved = new Map(); // question → {answer?, flagged?, seq}: sent, not acknowledged

const byId = new Map(questions.map((element) => [Number(element.dataset.question), element]));
const cellOf = (question) => root.querySelector(`.answer-card .cell[data-question="${question}"]`);
const send = (message) => {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
};
const say = (text, kind = "info") => {
  status.textContent = text;
  status.dataset.kind = kind;
};
const remaining = () => deadline - (Date.now() + offset);

function paint(question) {
  const answered = (answers.get(question) ?? []).length > 0;
  const flagged = flags.has(question);
  const cell = cellOf(question);
  cell.classList.toggle("answered", answered);
  cell.classList.toggle("flagged", flagged);
  cell.title = flagged ? "被标记" : answered ? "已做完" : "未做";
  const element = byId.get(question);
  const button = element.querySelector(".flag");
  button.setAttribute("aria-pressed", String(flagged));
  button.textContent = flagged ? "取消标记" : "标记";
  const pending = unsaved.has(question);
  element.querySelector(".save-state").textContent = pending ? "保存中…" : "";
  element.classList.toggle("unsaved", pending);
}

function show(question) {
  const chosen = answers.get(question) ?? [];
  for (const input of byId.get(question).querySelectorAll("input")) {
    input.checked = chosen.includes(input.value);
  }
  paint(question);
}

function lock(text, kind) {
  finished = true;
  for (const input of root.querySelectorAll(".question input, .question .flag")) {
    input.disabled = true;
  }
  submitButton.disabled = true;
  say(text, kind);
}

function unlock() {
  if (finished) return;
  for (const input of root.querySelectorAll(".question input, .question .flag")) {
    input.disabled = false;
  }
  submitButton.disabled = false;
}

// Sends what changed; the latest change of a question supersedes any earlier unsent one.
// The server keeps a question's frame of the highest seq and calls lower ones stale, so
// seq follows the server's clock: above what this page sent before a reload, and ordered
// with another tab's changes by when they were made.
function save(question, change) {
  seq = Math.max(seq + 1, Date.now() + offset);
  const entry = { ...unsaved.get(question), ...change, seq };
  unsaved.set(question, entry);
  paint(question);
  if (joined) transmit(question, entry);
}

function transmit(question, entry) {
  if (entry.answer !== undefined) {
    send({ type: "exam.answer", attempt, question, answer: entry.answer, seq: entry.seq });
  }
  if (entry.flagged !== undefined) {
    send({ type: "exam.flag", attempt, question, flagged: entry.flagged, seq: entry.seq });
  }
}

function tick() {
  const left = remaining();
  const seconds = Math.max(0, Math.ceil(left / 1000));
  const parts = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  countdown.textContent = parts.map((part) => String(part).padStart(2, "0")).join(":");
  countdown.classList.toggle("urgent", left <= URGENT_MS);
  if (left <= 0 && !finished) {
    lock(TIME_UP, "warn");
    setTimeout(() => location.assign(resultUrl), grace + RESULT_WAIT_MS);
  }
}

const handlers = {
  notice: showNotice,
  "exam.state"(message) {
    joined = true;
    retries = 0;
    deadline = message.deadline_ms;
    offset = message.server_now_ms - Date.now();
    // What the server holds, with this page's unacknowledged changes on top, sent again.
    answers.clear();
    for (const [question, keys] of Object.entries(message.answers)) {
      answers.set(Number(question), keys);
    }
    flags.clear();
    for (const question of message.flags) flags.add(question);
    for (const [question, entry] of unsaved) {
      if (entry.answer !== undefined) answers.set(question, entry.answer);
      if (entry.flagged === true) flags.add(question);
      if (entry.flagged === false) flags.delete(question);
      transmit(question, entry);
    }
    for (const question of byId.keys()) show(question);
    if (status.dataset.kind === "network") say("");
    unlock();
    if (submitting) send({ type: "exam.submit", attempt }); // lost with the old socket
    tick();
  },
  "exam.saved"(message) {
    // Also when `stale`: a later change is stored, this one needs no resending.
    if (unsaved.get(message.question)?.seq === message.seq) unsaved.delete(message.question);
    paint(message.question);
  },
  "exam.tick"(message) {
    offset = message.server_now_ms - Date.now();
    deadline = message.server_now_ms + message.remaining_ms;
  },
  "exam.result"() {
    finished = true;
    location.assign(resultUrl);
  },
  error(message) {
    if (message.code === "submitted") return location.assign(resultUrl);
    if (message.code === "deadline_passed") return lock(message.message, "error");
    if (message.code === "not_joined") return send({ type: "exam.join", attempt });
    say(message.message, "error");
  },
};

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => send({ type: "exam.join", attempt }));
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    handlers[message.type]?.(message);
  });
  socket.addEventListener("close", (event) => {
    joined = false;
    if (event.code === LOST_AUTHENTICATION) return lock(LOGGED_OUT, "error");
    if (finished && remaining() + grace < 0) return; // the result page takes over
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** retries);
    retries += 1;
    say(OFFLINE, "network");
    setTimeout(connect, delay);
  });
}

for (const [question, element] of byId) {
  for (const input of element.querySelectorAll("input")) {
    input.addEventListener("change", () => {
      const chosen = [...element.querySelectorAll("input:checked")].map((item) => item.value);
      answers.set(question, chosen);
      save(question, { answer: chosen });
    });
  }
  element.querySelector(".flag").addEventListener("click", () => {
    const flagged = !flags.has(question);
    if (flagged) flags.add(question);
    else flags.delete(question);
    save(question, { flagged });
  });
}

submitButton.addEventListener("click", () => {
  const unanswered = questions.filter(
    (element) => !(answers.get(Number(element.dataset.question)) ?? []).length,
  ).length;
  dialog.querySelector(".confirm-title").textContent = "交卷";
  dialog.querySelector(".confirm-text").textContent = unanswered
    ? `您还有${unanswered}道题未作答，确定交卷吗？交卷后不能修改答案。`
    : "您已答完全部试题，确定交卷吗？交卷后不能修改答案。";
  dialog.returnValue = "";
  dialog.showModal();
});

dialog.addEventListener("close", () => {
  if (dialog.returnValue !== "confirm" || finished || submitting) return;
  if (!joined) return say(OFFLINE, "network");
  // The socket handles messages in order, so every answer sent before is stored first.
  submitting = true;
  lock("正在交卷…", "info");
  finished = false; // the result (or a reconnect) still has to come
  send({ type: "exam.submit", attempt });
});

tick();
setInterval(tick, 250);
connect();
