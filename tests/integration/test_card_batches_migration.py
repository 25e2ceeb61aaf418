"""Migration 0015 on a database that already has study cards: each batch name becomes a
platform batch, and every card (active, used or void) keeps working in it."""

import os

import asyncpg

from engine import db
from tests.conftest import with_database


async def test_existing_cards_move_into_platform_batches(server_urls: tuple[str, str]) -> None:
    admin = await asyncpg.connect(with_database(server_urls[0], "postgres"))
    name = f"jixu_batches_{os.getpid()}"
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        connection = await asyncpg.connect(with_database(server_urls[0], name))
        try:
            before, after = [], []
            for version, sql in db.migration_files():
                (before if version < "0015" else after).append(sql)
            for sql in before:
                await connection.execute(sql)
            org = await connection.fetchval(
                "INSERT INTO orgs (code, name) VALUES ('o', '单位') RETURNING id"
            )
            learner = await connection.fetchval(
                """INSERT INTO users (username, password_hash, role, org_id, real_name, phone,
                                      id_type, id_number)
                   VALUES ('learner1', 'x', 'learner', $1, '学员', '13800000000', 'passport', 'E1')
                   RETURNING id""",
                org,
            )
            await connection.execute(
                """INSERT INTO study_cards (card_no, password_hash, value_fen, batch, status,
                                            used_by, used_at, created_at)
                   VALUES ('1', 'h', 3000, '第一批', 'active', NULL, NULL, '2020-01-01'),
                          ('2', 'h', 3000, '第一批', 'used', $1, now(), '2020-01-01'),
                          ('3', 'h', 5000, '第二批', 'void', NULL, NULL, '2021-01-01')""",
                learner,
            )
            for sql in after:
                await connection.execute(sql)
            batches = await connection.fetch(
                """SELECT b.org_id, b.name, b.card_count, b.value_fen, b.valid_until,
                          b.voided_at, array_agg(c.card_no ORDER BY c.card_no) AS cards
                   FROM card_batches b JOIN study_cards c ON c.batch_id = b.id
                   GROUP BY b.id ORDER BY b.id"""
            )
            assert [tuple(row.values()) for row in batches] == [
                (None, "第一批", 2, 3000, None, None, ["1", "2"]),
                (None, "第二批", 1, 5000, None, None, ["3"]),
            ]
            void = await connection.fetchrow(
                "SELECT status, void_reason FROM study_cards WHERE card_no = '3'"
            )
            assert tuple(void.values()) == ("void", "")
        finally:
            await connection.close()
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()
