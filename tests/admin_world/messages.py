"""Walk factories of the messages administration: a learner named by username, a survey
sent to an organisation, a 问答 question 待回答, a reported room message, a reported 站内信."""

from tests.admin_world import Objects, factory, insert_user, unique


@factory("learner_username")
async def learner_username(objects: Objects, org_id: int) -> str:
    username = unique("learner")
    await insert_user(objects.connection, org_id, username=username)
    return username


@factory("survey_id")
async def survey(objects: Objects, org_id: int) -> int:
    connection = objects.connection
    survey_id: int = await connection.fetchval(
        "INSERT INTO surveys (title) VALUES ('学习体验调查') RETURNING id"
    )
    await connection.execute(
        """INSERT INTO survey_questions (survey_id, position, kind, prompt, options)
           VALUES ($1, 0, 'single', '难度如何？', '{偏难,适中}'), ($1, 1, 'text', '建议？', '{}')""",
        survey_id,
    )
    await connection.execute(
        """INSERT INTO dispatches (kind, title, body, survey_id, org_id, sender_name, recipients)
           VALUES ('survey', '学习体验调查', '请填写', $1, $2, 'walk', 0)""",
        survey_id,
        org_id,
    )
    return survey_id


async def room_message(objects: Objects, org_id: int, room_kind: str) -> int:
    course_id = await objects.get("course_id")
    author = await insert_user(objects.connection, org_id)
    room = f"{room_kind}:{course_id}"
    message_id: int = await objects.connection.fetchval(
        """WITH counter AS (
               INSERT INTO rooms AS r (name, course_id, last_seq) VALUES ($1, $2, 1)
               ON CONFLICT (name) DO UPDATE SET last_seq = r.last_seq + 1 RETURNING last_seq)
           INSERT INTO room_messages (room, seq, author_id, author_name, author_role, text,
                                      created_at)
           SELECT $1, last_seq, $3, '学员', 'learner', '这门课的证书何时发？', now() FROM counter
           RETURNING id""",
        room,
        course_id,
        author,
    )
    return message_id


@factory("question_id")
async def question(objects: Objects, org_id: int) -> int:
    return await room_message(objects, org_id, "qa")


@factory("room_message_id")
async def reported_room_message(objects: Objects, org_id: int) -> int:
    message_id = await room_message(objects, org_id, "course")
    reporter = await insert_user(objects.connection, org_id)
    await objects.connection.execute(
        """INSERT INTO room_reports (message_id, reporter_id, reason, created_at)
           VALUES ($1, $2, '广告', now())""",
        message_id,
        reporter,
    )
    return message_id


@factory("letter_report_id")
async def letter_report(objects: Objects, org_id: int) -> int:
    sender = await insert_user(objects.connection, org_id)
    recipient = await insert_user(objects.connection, org_id)
    message_id = await objects.connection.fetchval(
        """INSERT INTO messages (learner_id, kind, title, body, sender_id)
           VALUES ($1, 'letter', '推销', '加微信', $2) RETURNING id""",
        recipient,
        sender,
    )
    report_id: int = await objects.connection.fetchval(
        """INSERT INTO message_reports (message_id, reporter_id, reason)
           VALUES ($1, $2, '骚扰') RETURNING id""",
        message_id,
        recipient,
    )
    return report_id
