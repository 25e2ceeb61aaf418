// Live `notice` frames on pages without a socket of their own: one socket while the page is
// in front, saying hello and listening. A page in the background closes it, so open tabs do
// not use up the learner's sockets (the player needs one); back in front, the page asks for
// the count it missed and listens again. A logged-out socket stays closed.
import { showUnread, showNotice } from "./unread.js";

const LOST_AUTHENTICATION = 4001; // close code, PROTOCOL.md
const MAX_BACKOFF_MS = 60_000;
let socket = null;
let retries = 0;
let timer = null;
let loggedOut = false;

function connect() {
  clearTimeout(timer);
  if (loggedOut || socket || document.visibilityState !== "visible") return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const opened = new WebSocket(`${scheme}://${location.host}/ws`);
  socket = opened;
  opened.addEventListener("open", () => {
    retries = 0;
    opened.send(JSON.stringify({ type: "hello", tab: "notices" }));
  });
  opened.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "notice") showNotice(message);
  });
  opened.addEventListener("close", (event) => {
    if (socket === opened) socket = null;
    if (event.code === LOST_AUTHENTICATION) loggedOut = true;
    if (loggedOut || document.visibilityState !== "visible") return;
    const delay = Math.min(MAX_BACKOFF_MS, 2000 * 2 ** retries);
    retries += 1;
    timer = setTimeout(connect, delay);
  });
}

async function refresh() {
  const response = await fetch("/api/v1/messages/unread", { credentials: "same-origin" });
  if (response.ok) showUnread((await response.json()).unread);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    refresh().catch(() => {});
    connect();
  } else {
    clearTimeout(timer);
    socket?.close(1000, "page hidden");
    socket = null;
  }
});

connect();
