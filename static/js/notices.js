// Live `notice` frames on pages without a socket of their own: one socket that says hello
// and listens, reconnecting with backoff; a logged-out socket stays closed.
import { showNotice } from "./unread.js";

const LOST_AUTHENTICATION = 4001; // close code, PROTOCOL.md
const MAX_BACKOFF_MS = 60_000;
let retries = 0;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    retries = 0;
    socket.send(JSON.stringify({ type: "hello", tab: "notices" }));
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "notice") showNotice(message);
  });
  socket.addEventListener("close", (event) => {
    if (event.code === LOST_AUTHENTICATION) return;
    const delay = Math.min(MAX_BACKOFF_MS, 2000 * 2 ** retries);
    retries += 1;
    setTimeout(connect, delay);
  });
}

connect();
