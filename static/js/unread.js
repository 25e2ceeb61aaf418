// The header's unread count and a short toast for each `notice` (PROTOCOL.md): used by the
// pages' own sockets (player, exam) and by notices.js everywhere else.
const badge = document.querySelector("#unread-count");
const toast = document.querySelector("#notice-toast");
const KINDS = { system: "系统通知", letter: "站内信", survey: "调查问卷", announcement: "公告" };
const TOAST_MS = 6_000;
let hideTimer = null;

export function showUnread(unread) {
  if (!badge) return;
  badge.textContent = String(unread);
  badge.hidden = unread === 0;
}

export function showNotice(message) {
  showUnread(message.unread);
  if (!toast) return;
  // Text only: a title comes from users (站内信) and is never read as HTML.
  toast.textContent = `${KINDS[message.kind] ?? "新消息"}：${message.title}`;
  toast.hidden = false;
  clearTimeout(hideTimer);
  hideTimer = setTimeout(() => {
    toast.hidden = true;
  }, TOAST_MS);
}
