// 讨论与答疑 outside the player (teachers answering, administrators moderating): the same
// rooms (rooms.js) on a websocket of their own, caught up from the last seq after a drop.
import { Rooms } from "./rooms.js";

const LOST_AUTHENTICATION = 4001; // close code, PROTOCOL.md
const MAX_BACKOFF_MS = 30_000;
let socket = null;
let retries = 0;

const send = (message) => {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
};
const rooms = new Rooms(document.querySelector(".side-tabs"), send);

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    retries = 0;
    rooms.joinAll();
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "error" && message.room) return rooms.refused(message);
    rooms.handlers[message.type]?.(message);
  });
  socket.addEventListener("close", (event) => {
    if (event.code === LOST_AUTHENTICATION) return rooms.say("登录已失效，请重新登录");
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** retries);
    retries += 1;
    rooms.say(`网络连接已断开，${delay / 1000}秒后重新连接…`);
    setTimeout(connect, delay);
  });
}

connect();
