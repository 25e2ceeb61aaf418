// The playback page (F17, F18). Plays one chapter and reports it over the websocket as
// PROTOCOL.md says; the server decides what earns credit. This page reports honestly, keeps
// to what the server allows (no seeking past what was watched, no faster than max_rate) and
// tells the learner why whenever it pauses. The same socket carries the 讨论 and 问答 rooms.
import { Rooms } from "./rooms.js";
import { showNotice } from "./unread.js";

const root = document.querySelector("#player");
const video = root.querySelector("video");
const status = root.querySelector("#status");
const endButton = document.querySelector("#end-study");
const attentionDialog = document.querySelector("#attention-dialog");
const attentionButton = document.querySelector("#attention-continue");
const keyPoints = [...root.querySelectorAll(".key-points button")];
const chapter = Number(root.dataset.chapter);

const NOT_WATCHED = "只能跳转到已学习过的位置";
const NO_SKIPPING = "不能跳过未学习的内容";
const FOCUS_LOST = "学习页面失去焦点，视频已暂停，学习进度暂停记录";
const HIDDEN = "学习页面已切换到后台，视频已暂停，学习进度暂停记录";
const FOCUS_BACK = "学习页面已恢复，点击播放继续学习";
const SUPERSEDED = "您已在其他页面开始学习，本页停止记录学习进度";
const LOGGED_OUT = "登录已失效，请重新登录后继续学习";
const CHECK_WAITING = "请点击“继续学习”，确认您正在学习后视频继续播放，学习进度继续记录";
const LOST_AUTHENTICATION = 4001; // close code, PROTOCOL.md
const MAX_BACKOFF_MS = 30_000;
const STOP_TIMEOUT_MS = 2_000;
const SEEK_SLACK_S = 1;
const TAB = Math.random().toString(36).slice(2, 10);

let socket = null;
let seq = 0; // strictly increasing for as long as the page lives
let ready = false; // this socket holds the playback lease (`playing` received)
let finished = false; // superseded, refused, logged out or leaving: never reconnect
let hwm = Number(root.dataset.hwm);
let reach = hwm; // hwm, plus what has played on continuously since the last ack
let lastTime = 0;
let maxRate = 1;
let intervalMs = 5_000;
let timer = null;
let retries = 0;
let resumeAt = root.dataset.start === "" ? null : Number(root.dataset.start); // null: resume
let resumePlaying = false; // was playing when the connection dropped
let stopSeq = null;
let blurGraceMs = 0; // a blur shorter than this neither pauses nor stops credit (the server counts)
let graceTimer = null;
let checkId = null; // the server's check-in waiting for its answer: nothing is credited until then

const say = (text, kind = "info") => {
  status.textContent = text;
  status.dataset.kind = kind;
};
let blurred = false; // between the window's blur and focus events, which every browser fires
const focused = () =>
  !blurred && document.hasFocus() && document.visibilityState === "visible";
const send = (message) => {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
};
const leave = () => location.assign(endButton.href);
const rooms = new Rooms(document.querySelector(".side-tabs"), send);

function beat() {
  if (!ready) return;
  seq += 1;
  send({
    type: "beat",
    seq,
    position: video.currentTime,
    playing: !video.paused,
    focused: focused(),
    rate: video.playbackRate,
  });
}

function keepBeating(on) {
  clearInterval(timer);
  timer = on ? setInterval(beat, intervalMs) : null;
}

function showProgress(message) {
  hwm = message.hwm;
  reach = Math.max(reach, hwm);
  const percents = { chapter: message.chapter_progress, course: message.course_progress };
  for (const [name, value] of Object.entries(percents)) {
    root.querySelector(`#${name}-progress`).value = value;
    root.querySelector(`#${name}-percent`).textContent = `${value}%`;
  }
  attentionButton.addEventListener("click", () => {
  if (checkId !== null) send({ type: "attention.answer", id: checkId });
});
attentionDialog.addEventListener("cancel", (event) => event.preventDefault());

for (const button of keyPoints) {
    button.classList.toggle("watched", Number(button.dataset.time) <= hwm);
  }
}

// Stop for good: the video pauses and nothing is sent any more.
function halt(text) {
  finished = true;
  ready = false;
  keepBeating(false);
  video.pause();
  say(text, "error");
  socket?.close();
}

function pauseFor(text) {
  if (!video.paused) {
    video.pause();
    say(text, "focus");
  }
  beat();
}

// The server asks whether someone is watching: the video waits for the click.
function askForAttention() {
  video.pause();
  say(CHECK_WAITING, "focus");
  if (!attentionDialog.open) attentionDialog.showModal();
}

function attentionAnswered() {
  checkId = null;
  attentionDialog.close();
  if (status.dataset.kind === "focus") say("");
}

const handlers = {
  ...rooms.handlers,
  playing(message) {
    ready = true;
    retries = 0;
    intervalMs = message.interval_ms;
    maxRate = message.max_rate;
    blurGraceMs = message.blur_grace_ms ?? 0;
    reach = message.hwm;
    showProgress(message);
    video.currentTime = message.position;
    if (video.playbackRate > maxRate) video.playbackRate = maxRate;
    if (status.dataset.kind === "network") say("");
    if (resumePlaying) {
      resumePlaying = false;
      video.play().catch(() => say("点击播放继续学习"));
    }
    keepBeating(!video.paused);
  },
  ack(message) {
    if (message.seq === stopSeq) return leave();
    if (message.reason === "superseded") return halt(SUPERSEDED);
    showProgress(message);
    if (message.seek_to !== undefined) {
      reach = message.seek_to;
      video.currentTime = message.seek_to;
      say(NO_SKIPPING, "warn");
    }
  },
  superseded: () => halt(SUPERSEDED),
  notice: showNotice,
  "attention.check"(message) {
    checkId = message.id;
    askForAttention();
  },
  "attention.ok"(message) {
    if (message.id !== checkId) return;
    attentionAnswered();
    video.play().catch(() => say("点击播放继续学习"));
  },
  error(message) {
    if (message.room) return rooms.refused(message);
    // `forbidden` answers `play`: this chapter may not be watched now.
    if (message.code === "forbidden") {
      video.controls = false;
      return halt(message.message);
    }
    if (message.code === "expired" && checkId !== null) {
      // Answered too late: a new `play` brings a new check-in to answer.
      send({ type: "play", chapter, position: video.currentTime });
    } else if (message.code === "unknown" && checkId !== null) {
      attentionAnswered(); // answered already, on another page
    }
    say(message.message, "error");
  },
};

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    send({ type: "hello", tab: TAB });
    send(resumeAt === null ? { type: "play", chapter } : { type: "play", chapter, position: resumeAt });
    rooms.joinAll();
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    handlers[message.type]?.(message);
  });
  socket.addEventListener("close", (event) => {
    ready = false;
    keepBeating(false);
    if (finished) return;
    if (event.code === LOST_AUTHENTICATION) return halt(LOGGED_OUT);
    // Nothing is recorded while offline, so the video waits; the server keeps every second
    // it acknowledged and `play` resumes from here (or from hwm, if this is beyond it).
    resumePlaying ||= !video.paused;
    video.pause();
    resumeAt = video.currentTime;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** retries);
    retries += 1;
    say(`网络连接已断开，${delay / 1000}秒后重新连接…`, "network");
    setTimeout(connect, delay);
  });
}

video.addEventListener("play", () => {
  if (finished) return video.pause(); // nothing would be recorded; the message says why
  if (checkId !== null) return askForAttention();
  if (!focused()) return pauseFor(FOCUS_LOST);
  if (status.dataset.kind === "focus") say("");
  beat();
  keepBeating(true);
});
video.addEventListener("pause", () => {
  keepBeating(false);
  beat();
});
video.addEventListener("ended", beat); // the final beat
video.addEventListener("seeking", () => {
  if (video.currentTime > reach + SEEK_SLACK_S) {
    video.currentTime = reach;
    say(NO_SKIPPING, "warn");
  }
});
video.addEventListener("seeked", () => {
  lastTime = video.currentTime;
  beat();
});
video.addEventListener("timeupdate", () => {
  const now = video.currentTime;
  // Continuous playback from within what was reached extends it; a jump does not.
  const continuous = !video.seeking && now >= lastTime && now - lastTime < 1.5;
  if (continuous && lastTime <= reach + SEEK_SLACK_S) reach = Math.max(reach, now);
  lastTime = now;
});
video.addEventListener("ratechange", () => {
  if (video.playbackRate > maxRate) {
    video.playbackRate = maxRate;
    say(`播放速度不能超过${maxRate}倍`, "warn");
  }
});
video.addEventListener("error", () => say("视频加载失败，请检查网络后刷新页面", "error"));

// A short blur (a notification) plays on: the server forgives it once in a while. Longer, or
// when the page is hidden, the video pauses.
window.addEventListener("blur", () => {
  blurred = true;
  beat();
  clearTimeout(graceTimer);
  graceTimer = setTimeout(() => {
    if (!focused()) pauseFor(FOCUS_LOST);
  }, blurGraceMs);
});
window.addEventListener("focus", () => {
  blurred = false;
  clearTimeout(graceTimer);
  if (status.dataset.kind === "focus" && checkId === null) say(FOCUS_BACK, "focus");
  beat();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") pauseFor(HIDDEN);
  else beat();
});

attentionButton.addEventListener("click", () => {
  if (checkId !== null) send({ type: "attention.answer", id: checkId });
});
attentionDialog.addEventListener("cancel", (event) => event.preventDefault());

// 关键目录 and the notes (notes.js sends a `jump` event) go only within what was watched.
function jumpTo(time) {
  if (time > reach) return say(NOT_WATCHED, "warn");
  video.currentTime = time;
}
for (const button of keyPoints) {
  button.addEventListener("click", () => jumpTo(Number(button.dataset.time)));
}
root.addEventListener("jump", (event) => jumpTo(event.detail.time));

endButton.addEventListener("click", (event) => {
  event.preventDefault();
  const holding = ready;
  finished = true;
  ready = false;
  keepBeating(false);
  video.pause();
  if (!holding) return leave();
  seq += 1;
  stopSeq = seq;
  send({ type: "stop", seq, position: video.currentTime });
  setTimeout(leave, STOP_TIMEOUT_MS);
});

connect();
