"""Simulated learners and examinees over the real protocol, each logging what it was
acknowledged, reconnecting to a live node whenever its socket fails."""

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

REPLY_TIMEOUT_S = 5
BEAT_S = 1.0
RETRY_S = 0.2
# Failures a client rides out by reconnecting: a node killed, a store away.
DROPPED = (aiohttp.ClientError, TimeoutError, ConnectionError, OSError)

Urls = Callable[[], list[str]]


class Refused(Exception):
    """The server answered with an error where the client expected its reply."""


@dataclass
class Ack:
    seq: int
    hwm: float
    credited_s: float
    at: float  # monotonic


@dataclass
class Outage:
    """A socket lost: when, and when the client was acknowledged again (on which node)."""

    lost_at: float
    back_at: float | None = None


async def _reply(ws: aiohttp.ClientWebSocketResponse, *types: str) -> dict[str, Any]:
    """The next frame of one of `types` (others, such as pushed notices, are skipped);
    Refused for an error."""
    while True:
        message = await ws.receive(timeout=REPLY_TIMEOUT_S)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket closed ({message.type.name}, {ws.close_code})")
        frame: dict[str, Any] = message.json()
        if frame["type"] in types:
            return frame
        if frame["type"] == "error":
            raise Refused(frame["code"])


@dataclass
class Player:
    """A learner watching one chapter honestly, a beat a second, from node to node."""

    learner_id: int
    token: str
    chapter: int
    urls: Urls
    acks: list[Ack] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    seq: int = 0

    @property
    def acked_hwm(self) -> float:
        return max((ack.hwm for ack in self.acks), default=0.0)

    async def run(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        for turn in itertools.count(self.learner_id):
            if stop.is_set():
                return
            urls = self.urls()
            url = urls[turn % len(urls)] if urls else ""
            try:
                if url:
                    await self._watch(session, url, stop)
            except (*DROPPED, Refused):
                if not self.outages or self.outages[-1].back_at is not None:
                    self.outages.append(Outage(time.monotonic()))
            await asyncio.sleep(RETRY_S)

    async def _watch(self, session: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> None:
        async with session.ws_connect(
            f"{url}/ws",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientWSTimeout(ws_close=2),
        ) as ws:
            await ws.send_json(
                {"type": "play", "chapter": self.chapter, "position": self.acked_hwm}
            )
            playing = await _reply(ws, "playing")
            position = playing["position"]
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(BEAT_S)
                now = time.monotonic()
                position += now - last
                last = now
                self.seq += 1
                await ws.send_json(
                    {
                        "type": "beat",
                        "seq": self.seq,
                        "position": position,
                        "playing": True,
                        "focused": True,
                        "rate": 1.0,
                    }
                )
                ack = await _reply(ws, "ack")
                self.acks.append(Ack(ack["seq"], ack["hwm"], ack["credited_s"], time.monotonic()))
                if self.outages and self.outages[-1].back_at is None:
                    self.outages[-1].back_at = time.monotonic()
                if "seek_to" in ack:
                    position = ack["seek_to"]


@dataclass
class Sent:
    seq: int
    question: int
    answer: list[str]
    acked: bool = False


@dataclass
class Examinee:
    """A learner answering an attempt's questions over and over until its deadline, each
    answer numbered by `seq`; `sent` says which the server acknowledged (`exam.saved`)."""

    learner_id: int
    token: str
    attempt: int
    deadline_ms: int
    questions: list[dict[str, Any]]
    urls: Urls
    sent: list[Sent] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    async def run(self, session: aiohttp.ClientSession, until: float) -> None:
        """Answer until `until` (monotonic), past the deadline and grace."""
        for turn in itertools.count(self.learner_id):
            if time.monotonic() >= until or self.results:
                return
            urls = self.urls()
            try:
                if urls:
                    await self._answer(session, urls[turn % len(urls)], until)
            except (*DROPPED, Refused):
                pass  # to another live node
            await asyncio.sleep(RETRY_S)

    async def _answer(self, session: aiohttp.ClientSession, url: str, until: float) -> None:
        async with session.ws_connect(
            f"{url}/ws",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientWSTimeout(ws_close=2),
        ) as ws:
            await ws.send_json({"type": "exam.join", "attempt": self.attempt})
            state = await _reply(ws, "exam.state", "exam.result")
            if state["type"] == "exam.result":
                self.results.append(state)
                return
            for question in itertools.cycle(self.questions):
                if time.monotonic() >= until:
                    return
                keys = [option["key"] for option in question["options"]]
                pick = (len(self.sent) // len(self.questions)) % len(keys)
                answer = (
                    sorted({keys[pick], keys[0]})
                    if question["type"] == "multiple"
                    else [keys[pick]]
                )
                sent = Sent(len(self.sent) + 1, question["id"], answer)
                self.sent.append(sent)
                await ws.send_json(
                    {
                        "type": "exam.answer",
                        "attempt": self.attempt,
                        "question": question["id"],
                        "answer": answer,
                        "seq": sent.seq,
                    }
                )
                try:
                    reply = await _reply(ws, "exam.saved", "exam.result")
                except Refused:
                    # deadline_passed, submitted: wait for the result the sweeper pushes.
                    result = await _reply(ws, "exam.result")
                    self.results.append(result)
                    return
                if reply["type"] == "exam.result":
                    self.results.append(reply)
                    return
                sent.acked = not reply.get("stale", False)
                await asyncio.sleep(0.3)
            return
