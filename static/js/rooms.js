// The playback page's tabs (F17): 关键目录, 讨论 (`course:<id>`) and 问答 (`qa:<id>`), rooms on
// the player's one websocket as PROTOCOL.md's chat.* says. Messages are kept by their seq: a
// message that comes twice (in a join's history and live) is shown once, and every list is
// in seq order whatever order frames arrive in. User text only ever goes into textContent.
const CATCH_UP_SIZE = 500; // the server's most per catch-up: a full one means ask again
const ROLE_NAMES = { teacher: "教师", admin: "管理员" };

const element = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};
const clock = (ms) =>
  new Date(ms).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });

class Room {
  constructor(panel, send) {
    this.panel = panel;
    this.name = panel.dataset.room;
    this.qa = this.name.startsWith("qa:");
    this.send = send;
    this.list = panel.querySelector(".room-messages");
    this.pinned = panel.querySelector(".room-pinned");
    this.status = panel.querySelector(".room-status");
    this.form = panel.querySelector(".room-form");
    this.input = this.form.querySelector("textarea");
    this.submitButton = this.form.querySelector('button[type="submit"]');
    this.submitLabel = this.submitButton.textContent;
    this.answering = panel.querySelector(".room-answering");
    this.items = new Map(); // seq → its <li>
    this.messages = new Map(); // id → message
    this.pending = new Map(); // client_id → its <li>, until the server's copy comes back
    this.lastSeq = 0; // the highest seq held: a reconnect catches up from it
    this.role = "learner";
    this.answerTo = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.answering?.querySelector("button").addEventListener("click", () => this.answer(null));
  }

  join() {
    const message = { type: "chat.join", room: this.name };
    if (this.lastSeq > 0) message.after_seq = this.lastSeq;
    this.send(message);
  }

  history(message) {
    this.role = message.role;
    for (const item of message.pinned) this.pin(item);
    for (const item of message.messages) this.add(item);
    if (message.messages.length >= CATCH_UP_SIZE) this.join();
  }

  add(message) {
    const mine = this.pending.get(message.client_id);
    if (mine) {
      mine.remove();
      this.pending.delete(message.client_id);
    }
    if (message.answer_to) {
      this.markAnswered(message.answer_to);
      this.pin(message);
    }
    if (this.items.has(message.seq)) return;
    this.messages.set(message.id, message);
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    const item = this.render(message);
    item.dataset.seq = message.seq;
    this.items.set(message.seq, item);
    const later = [...this.items.keys()].filter((seq) => seq > message.seq);
    const next = later.length ? this.items.get(Math.min(...later)) : null;
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.insertBefore(item, next);
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  render(message) {
    const item = element("li");
    item.dataset.id = message.id;
    const meta = element("div", "meta");
    meta.append(element("span", "author", message.author));
    if (ROLE_NAMES[message.role]) meta.append(element("span", "badge staff", ROLE_NAMES[message.role]));
    meta.append(element("time", "", clock(message.at_ms)));
    if (this.qa && message.role === "learner" && !message.answer_to) {
      const state = element("span", "badge state");
      meta.append(state);
      this.showState(item, state, message.answered);
    }
    if (message.answer_to) meta.append(element("span", "badge answer", "教师解答"));
    item.append(meta, element("p", "text", message.text));
    if (message.hidden) this.showHidden(item);
    else item.append(this.actions(message));
    return item;
  }

  showState(item, state, answered) {
    state.textContent = answered ? "已回答" : "待回答";
    state.classList.toggle("waiting", !answered);
    item.classList.toggle("answered", answered);
  }

  actions(message) {
    const bar = element("div", "actions");
    const moderator = this.role !== "learner";
    const question = this.qa && message.role === "learner" && !message.answer_to;
    if (moderator && question && !message.answered) {
      bar.append(this.action("回答", () => this.answer(message)));
    }
    if (moderator) {
      bar.append(
        this.action("隐藏", () => {
          const reason = prompt("隐藏原因");
          if (reason) this.send({ type: "chat.hide", room: this.name, id: message.id, reason });
        }),
      );
    }
    bar.append(
      this.action("举报", () => {
        const reason = prompt("举报原因");
        if (reason) this.send({ type: "chat.report", room: this.name, id: message.id, reason });
      }),
    );
    return bar;
  }

  action(label, onClick) {
    const button = element("button", "link-button", label);
    button.type = "button";
    button.addEventListener("click", onClick);
    return button;
  }

  answer(question) {
    this.answerTo = question ? question.id : null;
    if (!this.answering) return;
    this.answering.hidden = !question;
    this.submitButton.textContent = question ? "回答" : this.submitLabel;
    this.answering.querySelector("span").textContent = question ? `回答 ${question.author}：${question.text}` : "";
    if (question) this.input.focus();
  }

  markAnswered(questionId) {
    const question = this.messages.get(questionId);
    if (question) question.answered = true;
    for (const list of [this.list, this.pinned]) {
      const item = list?.querySelector(`li[data-id="${questionId}"]`);
      const state = item?.querySelector(".state");
      if (state) this.showState(item, state, true);
      const buttons = item ? [...item.querySelectorAll(".actions button")] : [];
      buttons.find((button) => button.textContent === "回答")?.remove();
    }
  }

  pin(message) {
    if (!this.pinned || this.pinned.querySelector(`li[data-id="${message.id}"]`)) return;
    const item = this.render(message);
    item.querySelector(".actions")?.remove();
    // An answer goes right after its question (pinned with it), else at the end.
    const question = message.answer_to && this.pinned.querySelector(`li[data-id="${message.answer_to}"]`);
    if (question) question.after(item);
    else if (message.answer_to && this.messages.has(message.answer_to)) {
      this.pin(this.messages.get(message.answer_to));
      this.pinned.querySelector(`li[data-id="${message.answer_to}"]`).after(item);
    } else this.pinned.append(item);
  }

  hidden(id) {
    const message = this.messages.get(id);
    if (message) message.hidden = true;
    for (const item of this.panel.querySelectorAll(`li[data-id="${id}"]`)) {
      if (item.parentElement === this.pinned) item.remove();
      else this.showHidden(item);
    }
  }

  showHidden(item) {
    item.classList.add("hidden");
    item.querySelector(".text").textContent = "该消息已被隐藏";
    item.querySelector(".actions")?.remove();
  }

  submit() {
    const text = this.input.value;
    if (!text.trim()) return this.say("消息不能为空");
    const clientId = Math.random().toString(36).slice(2, 12);
    const message = { type: "chat.send", room: this.name, text, client_id: clientId };
    if (this.answerTo) message.answer_to = this.answerTo;
    const bubble = element("li", "pending");
    bubble.append(element("div", "meta", "发送中…"), element("p", "text", text));
    this.list.append(bubble);
    this.list.scrollTop = this.list.scrollHeight;
    this.pending.set(clientId, bubble);
    this.send(message);
    this.input.value = "";
    this.answer(null);
    this.say("");
  }

  refused(message) {
    this.say(message.message);
    for (const bubble of this.pending.values()) {
      bubble.classList.replace("pending", "failed");
      bubble.querySelector(".meta").textContent = "未发送";
    }
    this.pending.clear();
  }

  say(text) {
    this.status.textContent = text;
  }
}

export class Rooms {
  constructor(aside, send) {
    this.rooms = new Map(
      [...aside.querySelectorAll(".room")].map((panel) => [panel.dataset.room, new Room(panel, send)]),
    );
    const tabs = [...aside.querySelectorAll('[role="tab"]')];
    for (const tab of tabs) {
      tab.addEventListener("click", () => {
        for (const other of tabs) {
          const selected = other === tab;
          other.setAttribute("aria-selected", String(selected));
          document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
        }
      });
    }
    const room = (message) => this.rooms.get(message.room);
    this.handlers = {
      "chat.history": (message) => room(message)?.history(message),
      "chat.message": (message) => room(message)?.add(message),
      "chat.hidden": (message) => room(message)?.hidden(message.id),
      "chat.reported": (message) => room(message)?.say("已举报，感谢您的反馈"),
    };
  }

  // On every (re)connect: a first join gets the latest messages, a later one what it missed.
  joinAll() {
    for (const room of this.rooms.values()) room.join();
  }

  refused(message) {
    this.rooms.get(message.room)?.refused(message);
  }

  say(text) {
    for (const room of this.rooms.values()) room.say(text);
  }
}
