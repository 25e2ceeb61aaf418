"""Benchmark of the rooms: members of 讨论 rooms spread over `jixu serve` processes.

    .venv/bin/python bench/rooms.py                       # the issue's shape, two engines
    .venv/bin/python bench/rooms.py --capacity 1,2,3,4    # then one engine, rates × 1…4

It starts embedded PostgreSQL and Redis in a temporary folder (or uses DATABASE_URL and
REDIS_URL), creates the learners (bench/population.py), one course per room with each
member's selection, starts the engines, and connects every member from this process (the
load generator), alternating between the engines, so each room has members on every node.
Each room gets `chat.send`s at its rate from its members in turn; a message's text is its
send time, so every delivery gives its latency, and the last member's is the message's.
Every member checks that it gets each seq of its rooms once. Then a bare websocket server
(bench/bare_server.py) answers pings from the same client for its cost per frame.
See bench/README.md for what each figure means.
"""

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import msgspec

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # the engine, when run from anywhere

import wire  # noqa: E402
from measures import Sampler, percentile  # noqa: E402
from population import populate  # noqa: E402
from processes import (  # noqa: E402
    cancel_on_signals,
    child,
    engine_env,
    free_port,
    raise_fd_limit,
    settle_client,
    stores,
    wait_listening,
)

CONNECT_CONCURRENCY = 100
DRAIN_S = 3.0  # after the last send: deliveries have stopped once none came for this long
DRAIN_MAX_S = 60.0
TARGET_P99_S = 0.25
ENGINE = [sys.executable, "-c", "from web.cli import main; main(['serve'])"]


class Frame(msgspec.Struct, forbid_unknown_fields=False):
    type: str
    room: str = ""
    seq: int = 0
    text: str = ""
    code: str = ""


_decode = msgspec.json.Decoder(Frame).decode


@dataclass
class Room:
    name: str
    rate: float  # messages per second at × 1
    members: list["Member"] = field(default_factory=list)
    turn: int = 0


@dataclass(eq=False)
class Member:
    socket: wire.Socket | None = None
    seen: dict[str, set[int]] = field(default_factory=dict)


@dataclass
class Tally:
    """What the members received, per message (room, seq)."""

    deliveries: int = 0
    duplicates: int = 0
    arrivals: Counter[int] = field(default_factory=Counter)  # deliveries by second of arrival
    # (room, seq) → [members that got it, send time, latest arrival]
    messages: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def text(self, member: Member, payload: bytes) -> None:
        frame = _decode(payload)
        if frame.type == "chat.message":
            self.received(member, frame, time.time())
        elif frame.type == "error":
            self.errors[frame.code] += 1

    def received(self, member: Member, frame: Frame, now: float) -> None:
        seen = member.seen.setdefault(frame.room, set())
        if frame.seq in seen:
            self.duplicates += 1
            return
        seen.add(frame.seq)
        self.deliveries += 1
        self.arrivals[int(now)] += 1
        entry = self.messages.get((frame.room, frame.seq))
        if entry is None:
            self.messages[(frame.room, frame.seq)] = [1, float(frame.text), now]
        else:
            entry[0] += 1
            entry[2] = max(entry[2], now)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rooms", type=int, default=100, help="small rooms")
    parser.add_argument("--room-size", type=int, default=50)
    parser.add_argument("--room-rate", type=float, default=1.0, help="messages/s per small room")
    parser.add_argument(
        "--lecture-size", type=int, default=1000, help="members also in the lecture"
    )
    parser.add_argument("--lecture-rate", type=float, default=2.0)
    parser.add_argument("--engines", type=int, default=2)
    parser.add_argument("--warmup-s", type=float, default=5.0)
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument(
        "--capacity", default="", help="rate multipliers for one engine afterwards, e.g. 1,2,3"
    )
    parser.add_argument("--bare-sockets", type=int, default=1000)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    raise_fd_limit()
    settle_client()
    try:
        asyncio.run(benchmark(args))
    except KeyboardInterrupt:
        sys.exit("interrupted")


async def benchmark(args: argparse.Namespace) -> None:
    cancel_on_signals()
    learners = args.rooms * args.room_size
    with (
        tempfile.TemporaryDirectory(prefix="jixu-bench-") as folder,
        stores(Path(folder)) as (database_url, redis_url, data_dir),
    ):
        began = time.monotonic()
        population = await populate(database_url, redis_url, learners)
        plan = await room_courses(database_url, [i for i, _ in population.learners], args)
        print(f"population: {learners} learners in {len(plan)} rooms, ready in"
              f" {time.monotonic() - began:.0f} s", flush=True)  # fmt: skip
        sampler = Sampler()
        sampler.watch_stores(data_dir)
        sampler.watch("client", lambda: [os.getpid()])
        sampling = asyncio.create_task(sampler.run())
        try:
            print(f"\n== {args.engines} engines, rates × 1", flush=True)
            await run(
                args,
                population.learners,
                plan,
                args.engines,
                [1.0],
                sampler,
                database_url,
                redis_url,
            )
            if args.capacity:
                multipliers = [float(m) for m in args.capacity.split(",")]
                print(f"\n== 1 engine, rates × {args.capacity}", flush=True)
                await run(
                    args,
                    population.learners,
                    plan,
                    1,
                    multipliers,
                    sampler,
                    database_url,
                    redis_url,
                )
            print("\n== bare server (bench/bare_server.py): ping → pong", flush=True)
            await bare(args, sampler)
        finally:
            sampling.cancel()


async def room_courses(
    database_url: str, learner_ids: list[int], args: argparse.Namespace
) -> list[tuple[str, float, list[int]]]:
    """One course per room in the bench plan, selected by its members: (room, rate, members
    by index into the population)."""
    connection = await asyncpg.connect(database_url)
    try:
        plan_id = await connection.fetchval("SELECT id FROM plans WHERE code = 'bench-plan'")
        rooms: list[tuple[str, float, list[int]]] = []
        shapes = [(f"room-{k}", args.room_rate, list(range(k * args.room_size, (k + 1) * args.room_size)))
                  for k in range(args.rooms)]  # fmt: skip
        shapes.append(("lecture", args.lecture_rate, list(range(args.lecture_size))))
        for code, rate, members in shapes:
            course_id = await connection.fetchval(
                """INSERT INTO courses (code, title, hour_tenths) VALUES ($1, '压测聊天', 10)
                   ON CONFLICT (code) DO UPDATE SET title = excluded.title RETURNING id""",
                f"bench-{code}",
            )
            await connection.execute(
                "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                plan_id,
                course_id,
            )
            await connection.execute(
                """INSERT INTO selections (learner_id, plan_id, course_id, source)
                   SELECT unnest($1::bigint[]), $2, $3, 'purchase' ON CONFLICT DO NOTHING""",
                [learner_ids[i] for i in members],
                plan_id,
                course_id,
            )
            rooms.append((f"course:{course_id}", rate, members))
        return rooms
    finally:
        await connection.close()


async def run(
    args: argparse.Namespace,
    learners: list[tuple[int, str]],
    plan: list[tuple[str, float, list[int]]],
    engines: int,
    multipliers: list[float],
    sampler: Sampler,
    database_url: str,
    redis_url: str,
) -> None:
    ports = [free_port() for _ in range(engines)]
    tally = Tally()
    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for port in ports:
            env = engine_env(database_url, redis_url, port)
            server = await stack.enter_async_context(child(ENGINE, env))
            servers.append(server)
        for port, server in zip(ports, servers, strict=True):
            await wait_listening(port, server)
        sampler.watch("server", lambda: [server.pid for server in servers])
        began = time.monotonic()
        rooms, members = await connect(learners, plan, ports, tally)
        stack.callback(close_all, members)
        first_id = await last_message_id(database_url)
        print(f"   {len(members)} members joined {len(rooms)} rooms in"
              f" {time.monotonic() - began:.0f} s; go", flush=True)  # fmt: skip
        for multiplier in multipliers:
            start = time.time() + args.warmup_s
            end = start + args.duration_s
            await send_until(rooms, multiplier, end)
            await drain(tally)
            report(rooms, members, tally, sampler, multiplier, start, end, engines)
        await check_stored(database_url, rooms, tally, first_id)


async def connect(
    learners: list[tuple[int, str]],
    plan: list[tuple[str, float, list[int]]],
    ports: list[int],
    tally: Tally,
) -> tuple[list[Room], list[Member]]:
    """Every member's socket (member i on engine i mod n), joined to its rooms."""
    joins: dict[int, list[str]] = {}
    for name, _, indexes in plan:
        for index in indexes:
            joins.setdefault(index, []).append(name)
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)
    members: dict[int, Member] = {}

    async def one(index: int) -> None:
        async with semaphore:
            member = Member()
            headers = {"Authorization": f"Bearer {learners[index][1]}"}
            member.socket = await wire.connect(
                ports[index % len(ports)], headers, lambda payload: tally.text(member, payload)
            )
            for name in joins[index]:
                reply = _decode(
                    await member.socket.request(f'{{"type":"chat.join","room":"{name}"}}'.encode())
                )
                if reply.type != "chat.history":
                    raise RuntimeError(f"join refused: {reply}")
            members[index] = member

    await asyncio.gather(*(one(index) for index in joins))
    rooms = [Room(name, rate, [members[i] for i in indexes]) for name, rate, indexes in plan]
    return rooms, list(members.values())


async def send_until(rooms: list[Room], multiplier: float, end: float) -> None:
    """Each room's messages at its rate, from its members in turn, until `end`."""
    now = time.time()
    due = [now + i / len(rooms) / max(room.rate for room in rooms) for i, room in enumerate(rooms)]
    while now < end:
        for i, room in enumerate(rooms):
            if due[i] <= now:
                member = room.members[room.turn % len(room.members)]
                room.turn += 1
                due[i] += 1 / (room.rate * multiplier)
                assert member.socket is not None
                member.socket.send(
                    f'{{"type":"chat.send","room":"{room.name}","text":"{time.time():.6f}"}}'.encode()
                )
        await asyncio.sleep(max(0.0, min(due) - time.time()))
        now = time.time()


async def drain(tally: Tally) -> None:
    """Wait until deliveries stop coming (late ones count as late, not as lost)."""
    deadline = time.monotonic() + DRAIN_MAX_S
    count = -1
    while count != tally.deliveries and time.monotonic() < deadline:
        count = tally.deliveries
        await asyncio.sleep(DRAIN_S)


def report(
    rooms: list[Room],
    members: list[Member],
    tally: Tally,
    sampler: Sampler,
    multiplier: float,
    start: float,
    end: float,
    engines: int,
) -> None:
    sizes = {room.name: len(room.members) for room in rooms}
    window = [entry for (room, _), entry in tally.messages.items() if start <= entry[1] < end]
    latencies = sorted(entry[2] - entry[1] for entry in window)
    deliveries = sum(tally.arrivals[second] for second in range(int(start), int(end)))
    missing = sum(sizes[room] - int(entry[0]) for (room, _), entry in tally.messages.items())
    seconds = int(end) - int(start)
    server_cpu = sampler.cpu_percent("server", start, end) or float("nan")
    client_cpu = sampler.cpu_percent("client", start, end) or float("nan")
    rate = deliveries / seconds
    print(
        f"   × {multiplier:g}: {len(window) / seconds:.0f} messages/s, {rate:.0f} deliveries/s;"
        f" send → last member p50 {percentile(latencies, 0.5) * 1000:.0f} ms,"
        f" p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {latencies[-1] * 1000 if latencies else 0:.0f} ms"
        f" ({'within' if percentile(latencies, 0.99) <= TARGET_P99_S else 'OVER'} 250 ms)\n"
        f"     so far: {tally.deliveries} deliveries, {missing} missing, {tally.duplicates} duplicated,"
        f" {sum(m.socket is None or m.socket.closed for m in members)} sockets closed,"
        f" errors {dict(tally.errors)}\n"
        f"     engines CPU {server_cpu:.0f}% of a core ({engines} processes):"
        f" {server_cpu / 100 / rate * 1e6:.1f} us per delivery; load generator {client_cpu:.0f}%;"
        f" redis {sampler.cpu_percent('redis', start, end) or 0:.0f}%,"
        f" postgres {sampler.cpu_percent('postgres', start, end) or 0:.0f}%",
        flush=True,
    )


async def last_message_id(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM room_messages"))
    finally:
        await connection.close()


async def check_stored(database_url: str, rooms: list[Room], tally: Tally, first_id: int) -> None:
    """Every message stored in this run was delivered to every member of its room, once."""
    connection = await asyncpg.connect(database_url)
    try:
        stored = dict(
            await connection.fetch(
                """SELECT room, count(*) FROM room_messages WHERE room = ANY($1) AND id > $2
                   GROUP BY room""",
                [room.name for room in rooms],
                first_id,
            )
        )
    finally:
        await connection.close()
    expected = sum(stored.get(room.name, 0) * len(room.members) for room in rooms)
    print(
        f"   stored {sum(stored.values())} messages; {expected} deliveries owed, {tally.deliveries}"
        f" made: {expected - tally.deliveries} lost, {tally.duplicates} duplicated",
        flush=True,
    )


def close_all(members: list[Member]) -> None:
    for member in members:
        if member.socket is not None:
            member.socket.close()


async def bare(args: argparse.Namespace, sampler: Sampler) -> None:
    """The bare server's CPU per frame: `--bare-sockets` sockets pinging 7 times a second."""
    port = free_port()
    command = [sys.executable, str(BENCH_DIR / "bare_server.py"), "--port", str(port)]
    async with child(command, None) as server:
        await wait_listening(port, server)
        sampler.watch("bare", lambda: [server.pid])
        pongs = Counter[int]()

        def pong(_: bytes) -> None:
            pongs[int(time.time())] += 1

        sockets = [await wire.connect(port, {}, pong) for _ in range(args.bare_sockets)]
        start = time.time() + 3
        end = start + args.duration_s
        while time.time() < end:
            for socket in sockets:
                socket.send(b'{"type":"ping"}')
            await asyncio.sleep(1 / 7)
        frames = sum(pongs[second] for second in range(int(start), int(end)))
        rate = frames / (int(end) - int(start))
        cpu = sampler.cpu_percent("bare", start, end) or float("nan")
        print(f"   {rate:.0f} pongs/s; bare server CPU {cpu:.0f}%: {cpu / 100 / rate * 1e6:.1f} us per"
              " frame (one received and decoded, one encoded and sent)", flush=True)  # fmt: skip
        for socket in sockets:
            socket.close()


if __name__ == "__main__":
    main()
