"""The role and scope walk (issue 11, deliverable 9): every administrative endpoint, found
in the app's router, called as each role on an object of organisation A and one of B.

Expected: success (2xx or a redirect) exactly when the role reaches the route's least role
and the object is in the caller's scope (super: everything; an administrator: its subtree;
a teacher: organisation A, whose courses it is granted); else 403 for the role, 404 for the
scope, and the database unchanged. A successful change adds an audit row. After each call
that changed anything, the changed tables are put back, so calls never see each other.
"""

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from engine.accounts.logins import LoginSessions
from engine.admin.scope import RANKS
from engine.appkeys import LOGIN_SESSIONS
from tests.admin_world import ROLES, Objects, World, build_world, load_factories
from web.admin.audit_names import ACTIONS
from web.admin.routing import AdminRoute, Upload, route_of
from web.requests import CSRF_FIELD, SESSION_COOKIE, session_csrf_token

ADMIN_PREFIXES = ("/admin", "/api/v1/admin")
PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^{}]*)?\}")
ROLE_RANKS = {"learner": 0, "teacher": 1, "admin_a": 2, "admin_b": 2, "super": 3}
SNAPSHOT_SCHEMA = "walk_snapshot"


@dataclass(frozen=True)
class Case:
    """A route called on objects of one organisation (None: a route naming no object)."""

    route: AdminRoute
    org: str | None
    objects: dict[str, int | str]


def admin_routes(client: TestClient) -> tuple[list[AdminRoute], list[str]]:
    """The router's administrative routes, and the problems of those the gate does not hold."""
    found, problems = [], []
    for resource_route in client.server.app.router.routes():
        info = resource_route.resource.canonical if resource_route.resource else ""
        if resource_route.method == "HEAD" or not info.startswith(ADMIN_PREFIXES):
            continue
        route = route_of(resource_route.handler)
        if route is None:
            problems.append(f"{resource_route.method} {info}: not declared in an admin SECTION")
            continue
        found.append(route)
    return found, problems


def object_names(route: AdminRoute) -> list[str]:
    """The objects a route names: its path parameters and its example's placeholders."""
    names = PARAMETER.findall(route.path)
    for value in route.example.values():
        if isinstance(value, str):
            names += [name for _, name, _, _ in string.Formatter().parse(value) if name]
    return list(dict.fromkeys(names))


def expected(route: AdminRoute, role: str, org: str | None) -> int | None:
    """None for success, else the status refusing the call."""
    if ROLE_RANKS[role] < RANKS[route.role]:
        return 403
    if org is None or role == "super":
        return None
    in_scope = {"teacher": "A", "admin_a": "A", "admin_b": "B"}[role] == org
    return None if in_scope else 404


class Database:
    """The walk's database seen from outside the app: a fingerprint of every table and a
    snapshot to put changed tables back from."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.tables: list[str] = []
        self.fingerprint_sql = ""
        self.columns: dict[str, str] = {}

    async def snapshot(self) -> list[str]:
        rows = await self.connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        self.tables = [row["tablename"] for row in rows]
        self.fingerprint_sql = "SELECT ARRAY[{}]".format(
            ", ".join(
                f"(SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f' FROM public."{table}" t)'
                for table in self.tables
            )
        )
        await self.connection.execute(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
        for table in self.tables:
            stored = await self.connection.fetch(
                """SELECT attname FROM pg_attribute
                   WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
                         AND attgenerated = ''
                   ORDER BY attnum""",
                f'public."{table}"',
            )
            self.columns[table] = ", ".join(f'"{row["attname"]}"' for row in stored)
            await self.connection.execute(
                f'CREATE TABLE {SNAPSHOT_SCHEMA}."{table}" AS TABLE public."{table}"'
            )
        return await self.fingerprint()

    async def fingerprint(self) -> list[str]:
        return list(await self.connection.fetchval(self.fingerprint_sql))

    def changed(self, before: list[str], after: list[str]) -> list[str]:
        return [
            table for table, old, new in zip(self.tables, before, after, strict=True) if old != new
        ]

    async def restore(self, tables: list[str]) -> None:
        """Put `tables` back as snapshotted; triggers (the audit log's, foreign keys') off."""
        async with self.connection.transaction():
            await self.connection.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                columns = self.columns[table]
                await self.connection.execute(f'DELETE FROM public."{table}"')
                await self.connection.execute(
                    f'INSERT INTO public."{table}" ({columns}) OVERRIDING SYSTEM VALUE '
                    f'SELECT {columns} FROM {SNAPSHOT_SCHEMA}."{table}"'
                )


def cases(
    routes: list[AdminRoute], built: dict[tuple[int, str], dict[str, int | str]]
) -> Iterator[Case]:
    for index, route in enumerate(routes):
        if object_names(route):
            for org in ("A", "B"):
                yield Case(route, org, built[index, org])
        else:
            yield Case(route, None, {})


def fill(text: str, objects: dict[str, int | str]) -> str:
    return PARAMETER.sub(lambda found: str(objects[found[1]]), text)


async def call(client: TestClient, case: Case, token: str | None) -> tuple[int, str]:
    """The case's request as a browser (or API client) of `token`'s login would send it."""
    route = case.route
    path = fill(route.path, case.objects)
    values = {
        name: fill(value, case.objects) if isinstance(value, str) else value
        for name, value in route.example.items()
    }
    headers = {"Origin": f"http://{client.host}:{client.port}"}
    if token is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={token}"
    csrf = session_csrf_token(token) if token else ""
    options: dict[str, object] = {"headers": headers, "allow_redirects": False}
    if route.method == "GET":
        options["params"] = values
    elif path.startswith("/api/"):
        options["json"] = values
    else:
        form = FormData()
        form.add_field(CSRF_FIELD, csrf)
        for name, value in values.items():
            if isinstance(value, Upload):
                form.add_field(
                    name, value.read(), filename=value.filename, content_type=value.content_type
                )
            else:
                form.add_field(name, value)
        if route.upload:
            form._is_multipart = True
        options["data"] = form
    response = await client.request(route.method, path, **options)  # type: ignore[arg-type]
    body = await response.text(errors="replace")  # downloads (XLSX) are binary
    client.session.cookie_jar.clear()
    return response.status, response.headers.get("Location", "") or body[:200]


async def test_every_admin_route_answers_by_role_and_scope(
    client: TestClient, database_url: str
) -> None:
    factories = load_factories()
    routes, problems = admin_routes(client)
    assert routes, "no administrative route found"
    for route in routes:
        missing = [name for name in object_names(route) if name not in factories]
        if missing:
            problems.append(
                f"{route.method} {route.path}: no walk factory for "
                + ", ".join(f"{{{name}}}" for name in missing)
                + " (register one in tests/admin_world/)"
            )
    assert not problems, "\n".join(problems)

    connection = await asyncpg.connect(database_url)
    try:
        world = await build_world(connection)
        built = {}
        for index, route in enumerate(routes):
            if object_names(route):
                for org, org_id in (("A", world.a), ("B", world.b)):
                    objects = Objects(connection, world, org_id)
                    for name in object_names(route):
                        await objects.get(name)
                    built[index, org] = objects.built
        # The teacher teaches every course of organisation A (its scope as a teacher).
        await connection.execute(
            """INSERT INTO course_teachers (course_id, user_id)
               SELECT id, $2 FROM courses WHERE org_id IN (SELECT org_subtree($1))
               ON CONFLICT DO NOTHING""",
            world.a,
            world.users["teacher"],
        )
        database = Database(connection)
        pristine = await database.snapshot()
        tokens = await logins(client.server.app[LOGIN_SESSIONS], world)

        failures: list[str] = []
        calls = 0
        for case in cases(routes, built):
            for role in (None, *ROLES):
                calls += 1
                audit_rows = await connection.fetchval("SELECT count(*) FROM audit_log")
                status, said = await call(client, case, tokens.get(role) if role else None)
                after = await database.fingerprint()
                changed = database.changed(pristine, after)
                what = f"{case.route.method} {case.route.path} as {role or 'anonymous'}"
                what += f" on objects of {case.org}" if case.org else ""
                failures += judge(case, role, status, said, changed, what)
                # An anonymous upload is sent to the login box (302) before its body is read.
                succeeded = role is not None and case.route.mutates and status < 400
                if succeeded and not changed:
                    failures.append(f"{what}: succeeded ({status}) but changed nothing")
                elif succeeded:
                    actions = await connection.fetch(
                        "SELECT action FROM audit_log ORDER BY id OFFSET $1", audit_rows
                    )
                    if not actions:
                        failures.append(f"{what}: changed {changed} without an audit row")
                    # 操作日志 names every action in the administrators' words.
                    failures += [
                        f"{what}: audit action {row['action']} has no name in audit_names"
                        for row in actions
                        if row["action"] not in ACTIONS
                    ]
                if changed:
                    await database.restore(changed)
                    assert await database.fingerprint() == pristine, f"{what}: restore failed"
        assert not failures, f"{len(failures)} of {calls} calls wrong:\n" + "\n".join(failures)
    finally:
        await connection.close()


def judge(
    case: Case, role: str | None, status: int, said: str, changed: list[str], what: str
) -> list[str]:
    if role is None:
        # A page sends to the login box, the API answers 401; an anonymous form has no
        # login's CSRF token, so the CSRF check refuses it first (403).
        api = case.route.path.startswith("/api/")
        login_box = status == 302 and said.startswith("/login?next=")
        refused = status == 401 if api else login_box or (case.route.mutates and status == 403)
        if not refused:
            return [f"{what}: {status} {said!r}, expected the login"]
    else:
        wanted = expected(case.route, role, case.org)
        succeeded = status < 400 and not said.startswith("/login")
        if wanted is None and not succeeded:
            return [f"{what}: {status} {said!r}, expected success"]
        if wanted is not None and status != wanted:
            return [f"{what}: {status} {said!r}, expected {wanted}"]
        if wanted is None:
            return []
    if changed:
        return [f"{what}: refused ({status}) but changed {changed}"]
    return []


async def logins(sessions: LoginSessions, world: World) -> dict[str, str]:
    return {role: await sessions.create(user_id) for role, user_id in world.users.items()}
