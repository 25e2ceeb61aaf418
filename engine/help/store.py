"""SQL of the offline service points, which an administrator edits."""

from engine.db import Executor, row_count
from engine.help.types import ServicePoint

COLUMNS = "id, position, name, unit, phone, address, hours"


async def service_points(db: Executor) -> list[ServicePoint]:
    rows = await db.fetch(f"SELECT {COLUMNS} FROM service_points ORDER BY position, id")
    return [ServicePoint(*row) for row in rows]


async def service_point(db: Executor, point_id: int) -> ServicePoint | None:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM service_points WHERE id = $1", point_id)
    return ServicePoint(*row) if row else None


async def insert_service_point(
    db: Executor, position: int | None, name: str, unit: str, phone: str, address: str, hours: str
) -> ServicePoint:
    """A new service point at `position`, or after the last one."""
    rows = await db.fetch(
        f"""INSERT INTO service_points (position, name, unit, phone, address, hours)
            VALUES (coalesce($1, (SELECT coalesce(max(position), 0) + 1 FROM service_points)),
                    $2, $3, $4, $5, $6)
            RETURNING {COLUMNS}""",
        position,
        name,
        unit,
        phone,
        address,
        hours,
    )
    return ServicePoint(*rows[0])


async def update_service_point(db: Executor, point: ServicePoint) -> None:
    await db.execute(
        """UPDATE service_points SET position = $2, name = $3, unit = $4, phone = $5,
                  address = $6, hours = $7
           WHERE id = $1""",
        point.id,
        point.position,
        point.name,
        point.unit,
        point.phone,
        point.address,
        point.hours,
    )


async def delete_service_point(db: Executor, point_id: int) -> bool:
    status = await db.execute("DELETE FROM service_points WHERE id = $1", point_id)
    return row_count(status) == 1
