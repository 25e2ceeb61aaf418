// The player's 笔记 (F17): notes at the video's current time, kept over the JSON API; a
// note's time jumps back to its moment, within what was watched (player.js decides).
const section = document.querySelector("#notes");
const player = document.querySelector("#player");
const video = player.querySelector("video");
const form = section.querySelector("#note-form");
const list = section.querySelector("#note-list");
const status = section.querySelector("#note-status");
const base = `/api/v1/chapters/${section.dataset.chapter}/notes`;

const mmss = (seconds) => {
  const whole = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(Math.floor(whole / 60))}:${pad(whole % 60)}`;
};
const say = (text, kind = "info") => {
  status.textContent = text;
  status.dataset.kind = kind;
};

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(payload.error?.message ?? "操作失败，请稍后再试");
  return payload;
}

function button(text, onClick, className = "link-button") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}

function render(note) {
  const item = document.createElement("li");
  item.className = "note-item";
  item.dataset.id = note.id;
  const time = button(mmss(note.position_s), () => {
    player.dispatchEvent(new CustomEvent("jump", { detail: { time: note.position_s } }));
  }, "note-time");
  time.title = "回到视频的这一刻";
  time.dataset.at = note.position_s;
  const text = document.createElement("span");
  text.className = "note-body";
  text.textContent = note.body; // as written, never as HTML
  const edit = button("编辑", () => startEditing(item, note));
  const remove = button("删除", async () => {
    if (!confirm("确定删除这条笔记吗？")) return;
    try {
      await call("DELETE", `/api/v1/notes/${note.id}`);
      item.remove();
      say("笔记已删除");
    } catch (error) {
      say(error.message, "error");
    }
  });
  item.replaceChildren(time, text, edit, remove);
  return item;
}

function startEditing(item, note) {
  const area = document.createElement("textarea");
  area.value = note.body;
  area.maxLength = 1000;
  area.rows = 3;
  area.setAttribute("aria-label", "编辑笔记");
  const save = button("保存", async () => {
    try {
      const { note: saved } = await call("PATCH", `/api/v1/notes/${note.id}`, { body: area.value });
      item.replaceWith(render(saved));
      say("笔记已保存");
    } catch (error) {
      say(error.message, "error");
    }
  });
  const cancel = button("取消", () => item.replaceWith(render(note)));
  item.replaceChildren(area, save, cancel);
  area.focus();
}

function insert(note) {
  const item = render(note);
  const after = [...list.children].find(
    (other) => Number(other.querySelector(".note-time")?.dataset.at ?? Infinity) > note.position_s,
  );
  list.insertBefore(item, after ?? null);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = form.elements.body.value;
  try {
    const { note } = await call("POST", base, { position_s: video.currentTime, body });
    insert(note);
    form.reset();
    say(`已在 ${mmss(note.position_s)} 记下笔记`);
  } catch (error) {
    say(error.message, "error");
  }
});

call("GET", base)
  .then(({ notes }) => notes.forEach(insert))
  .catch((error) => say(error.message, "error"));
