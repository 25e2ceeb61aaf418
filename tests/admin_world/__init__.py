"""The admin walk's world (tests/integration/test_admin_walk.py): organisations root → A
(→ A1) and root → B, one user of each role, and factories that build, in a given
organisation, an object of each kind a route names.

A factory is registered under the name a route uses for its object, as a path parameter
(`/admin/learners/{learner_id}`) or as a placeholder of its example input
(`{"course_id": "{course_id}"}`). Each part registers its own in `tests/admin_world/<part>.py`;
every module of this package is loaded.
"""

import importlib
import itertools
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

# The world's users, by the name the walk reports them with.
ROLES = ("learner", "teacher", "admin_a", "admin_b", "super")


@dataclass(frozen=True)
class World:
    root: int
    a: int
    a1: int
    b: int
    users: dict[str, int]


@dataclass
class Objects:
    """The objects of one call, all in organisation `org_id`: each name built once, so a
    path parameter and an example's placeholder of one name are the same object."""

    connection: asyncpg.Connection
    world: World
    org_id: int
    built: dict[str, int | str] = field(default_factory=dict)

    async def get(self, name: str) -> int | str:
        """The object called `name` (built now by its factory, the first time)."""
        if name not in self.built:
            if name not in FACTORIES:
                raise LookupError(f"no factory builds {{{name}}}")
            self.built[name] = await FACTORIES[name](self, self.org_id)
        return self.built[name]


Factory = Callable[[Objects, int], Awaitable[int | str]]
FACTORIES: dict[str, Factory] = {}

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other object of the walk has (usernames, codes)."""
    return f"{prefix}{next(_serial):05d}"


def factory(name: str) -> Callable[[Factory], Factory]:
    """Register `build(objects, org_id)` as the way to make a `{name}` in `org_id`; it may
    ask `objects.get(...)` for the objects it needs (in the same organisation)."""

    def register(build: Factory) -> Factory:
        if name in FACTORIES:
            raise ValueError(f"two factories for {{{name}}}")
        FACTORIES[name] = build
        return build

    return register


def load_factories() -> dict[str, Factory]:
    """Every factory of every module of this package."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return FACTORIES


async def insert_user(
    connection: asyncpg.Connection,
    org_id: int,
    *,
    role: str = "learner",
    username: str | None = None,
    password_hash: str = "not-a-hash",
) -> int:
    """A user with the required personal details, unique by its username."""
    username = username or unique("user")
    user_id: int = await connection.fetchval(
        """INSERT INTO users (username, password_hash, role, org_id, real_name, phone, id_type,
                              id_number)
           VALUES ($1, $2, $3, $4, $5, '13800000000', 'passport', $1) RETURNING id""",
        username,
        password_hash,
        role,
        org_id,
        f"用户{username[-5:]}",
    )
    return user_id


async def insert_org(connection: asyncpg.Connection, name: str, parent_id: int | None) -> int:
    org_id: int = await connection.fetchval(
        "INSERT INTO orgs (code, name, parent_id) VALUES ($1, $2, $3) RETURNING id",
        unique("org"),
        name,
        parent_id,
    )
    return org_id


async def build_world(connection: asyncpg.Connection) -> World:
    root = await insert_org(connection, "根组织", None)
    a = await insert_org(connection, "组织A", root)
    a1 = await insert_org(connection, "组织A1", a)
    b = await insert_org(connection, "组织B", root)
    users = {
        "learner": await insert_user(connection, a, username="walk_learner"),
        "teacher": await insert_user(connection, a, role="teacher", username="walk_teacher"),
        "admin_a": await insert_user(connection, a, role="admin", username="walk_admin_a"),
        "admin_b": await insert_user(connection, b, role="admin", username="walk_admin_b"),
        "super": await insert_user(connection, root, role="super", username="walk_super"),
    }
    return World(root=root, a=a, a1=a1, b=b, users=users)
