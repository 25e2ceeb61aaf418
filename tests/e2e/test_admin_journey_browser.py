"""The issue's journey in Chromium: an administrator of an organisation builds a plan with a new
course, uploads a chapter's video, imports a question bank and schedules an exam; a learner of
that organisation activates the plan, watches the chapter through the real player and passes
the exam; a learner of another organisation never sees the plan."""

import re
import subprocess
from pathlib import Path

import asyncpg
import imageio_ffmpeg
import pytest
from playwright.async_api import Browser, Page, expect

from engine.accounts.passwords import hash_password
from tests.admin_world import insert_org, insert_user
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.e2e.test_player_browser import record_frames, wait_for_frame

# The clip plays for real (a few seconds); the rest is forms and page loads.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

CLIP = Path(__file__).resolve().parents[2] / "media" / "demo" / "clip2.mp4"
CLIP_S = 6
PASSWORD = "Journey2026ok"
RIGHT = "人力资源部门"
BANK = (
    "题型,题干,选项A,选项B,选项C,答案,分值,解析\n"
    + "".join(f"单选题,第{n}题：继续教育证书由谁验证盖章？,学员本人,{RIGHT},培训机构,B,5,\n" for n in (1, 2, 3))
    + "判断题,学习进度达到100%后才可参加考试。,,,,正确,5,\n"
)  # fmt: skip


@pytest.fixture
def short_clip(tmp_path: Path) -> Path:
    """The first seconds of a demo clip, so that watching a chapter to its end is quick."""
    clip = tmp_path / "第一节.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(CLIP), "-t", str(CLIP_S),
         "-c:v", "libx264", "-an", "-movflags", "+faststart", str(clip)],
        check=True, timeout=60,
    )  # fmt: skip
    return clip


async def keyboard_log_in(page: Page, portal_url: str, username: str) -> None:
    """The login form with the keyboard alone: type, Tab to the password, Enter."""
    await page.goto(f"{portal_url}/login")
    await page.get_by_label("用户名").focus()
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{portal_url}/")


async def test_an_administrator_builds_a_plan_a_learner_of_the_organisation_takes_it(
    browser: Browser, portal_url: str, database_url: str, org_id: int, short_clip: Path
) -> None:
    password_hash = await hash_password(PASSWORD)
    connection = await asyncpg.connect(database_url)
    try:
        other_org = await insert_org(connection, "其他单位", None)
        await insert_user(connection, org_id, role="admin", username="org_admin", password_hash=password_hash)  # fmt: skip
        await insert_user(connection, org_id, username="our_learner", password_hash=password_hash)
        await insert_user(connection, other_org, username="their_learner", password_hash=password_hash)  # fmt: skip
    finally:
        await connection.close()

    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    frames = record_frames(page)
    try:
        await keyboard_log_in(page, portal_url, "org_admin")
        await page.get_by_role("link", name="管理", exact=True).click()
        side = page.get_by_role("navigation", name="管理导航")

        # 课程管理 → 新建课程: filled and submitted with the keyboard alone.
        await side.get_by_role("link", name="课程管理").click()
        await page.get_by_role("link", name="新建课程").click()
        await page.get_by_label("课程编号").focus()
        await page.keyboard.type("journey-01")
        await page.keyboard.press("Tab")
        await page.keyboard.type("政府会计准则")
        await page.keyboard.press("Tab")  # 授课教师: none
        await page.keyboard.press("Tab")
        await page.keyboard.type("1")
        await page.keyboard.press("Tab")  # 课程简介: none
        await page.keyboard.press("Tab")  # 所属单位: the administrator's only one, chosen
        await expect(page.get_by_label("所属单位")).to_have_value(str(org_id))
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("button", name="保存")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(r"/admin/courses/\d+$"))
        await expect(page.locator(".flash")).to_be_visible()

        await page.get_by_label("章节名称").fill("第一节 准则概述")
        await page.get_by_label("视频文件").set_input_files(short_clip)
        await page.get_by_role("button", name="上传并添加").click()
        await expect(page.get_by_text("章节已添加")).to_be_visible()
        await expect(page.locator("#chapters tbody tr")).to_contain_text(f"00:0{CLIP_S}")

        # A chapter added by mistake: 删除本章节 asks first (Escape keeps it), by keyboard.
        await page.get_by_label("章节名称").fill("误传的章节")
        await page.get_by_label("视频文件").set_input_files(short_clip)
        await page.get_by_role("button", name="上传并添加").click()
        await page.get_by_role("link", name="误传的章节").click()
        delete = page.get_by_role("button", name="删除本章节")
        dialog = page.locator("#confirm-dialog")
        await delete.focus()
        await page.keyboard.press("Enter")
        await expect(dialog).to_contain_text("确定删除“误传的章节”吗？")
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(page.get_by_role("heading", level=1)).to_have_text("误传的章节")
        await delete.focus()
        await page.keyboard.press("Enter")
        await expect(dialog.get_by_role("button", name="确定")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator(".flash")).to_have_text("章节“误传的章节”已删除")
        await expect(page.locator("#chapters tbody tr")).to_have_count(1)

        # 培训计划 → 新建: the course added by its code, then made compulsory and examined.
        await side.get_by_role("link", name="培训计划").click()
        await page.get_by_role("link", name="新建培训计划").click()
        await page.get_by_label("计划名称").fill("2026年会计人员继续教育")
        await page.get_by_label("专业科目").check()
        await page.get_by_label("年度").fill("2026")
        await page.get_by_label("必修学时").fill("1")
        await page.get_by_label("选修学时").fill("0")
        await page.get_by_label("每学时价格（元）").fill("5")
        await page.get_by_label("开放日期").fill("2000-01-01")
        await page.get_by_label("截止日期").fill("2099-12-31")
        await page.get_by_label("添加课程").fill("journey-01")
        await page.get_by_role("button", name="保存").click()
        await expect(page.get_by_text("培训计划已创建")).to_be_visible()
        plan_id = int(page.url.rsplit("/", 1)[1])
        await page.get_by_label("政府会计准则 为必修").check()
        await page.get_by_label("政府会计准则 需考试").check()
        await page.get_by_role("button", name="保存").click()
        await expect(page.get_by_text("培训计划已保存")).to_be_visible()
        await snapshot(page, "journey-plan")

        # 题库与考试: the bank from a CSV, then an exam drawn from it.
        await side.get_by_role("link", name="题库与考试").click()
        await page.locator("tr", has_text="政府会计准则").get_by_role("link", name="题库").click()
        await page.get_by_label("题库文件").set_input_files(
            {"name": "题库.csv", "mimeType": "text/csv", "buffer": BANK.encode()}
        )
        await page.get_by_role("button", name="导入").click()
        await expect(page.locator(".flash")).to_have_text("已导入 4 道题")
        await page.get_by_role("link", name="本课程的考试").click()
        await page.get_by_role("link", name="新建考试").click()
        await page.get_by_label("考试名称").fill("政府会计准则考试")
        await page.get_by_label("开始时间").fill("2020-01-01T08:00")
        await page.get_by_label("结束时间").fill("2099-12-31T18:00")
        await page.get_by_label("考试时长（分钟）").fill("20")
        await page.get_by_label("总分").fill("15")
        await page.get_by_label("及格线").fill("10")
        await page.get_by_label("单选题").fill("2")
        await page.get_by_label("判断题").fill("1")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator(".flash")).to_have_text("考试已创建")
        await snapshot(page, "journey-exams")
        await page.get_by_role("button", name="退出").click()

        # A learner of another organisation: the plan is not offered, nor reachable.
        await keyboard_log_in(page, portal_url, "their_learner")
        await page.goto(f"{portal_url}/plans")
        await expect(page.locator("main")).not_to_contain_text("2026年会计人员继续教育")
        await expect(page.locator(f'[data-plan="{plan_id}"]')).to_have_count(0)
        refused = await page.goto(f"{portal_url}/plans/{plan_id}")
        assert refused is not None
        assert refused.status == 404
        problems.clear()  # the 404 page is reported by the console
        await page.goto(f"{portal_url}/")
        await page.get_by_role("button", name="退出").click()

        # The learner of the organisation: 去激活, the course, the chapter played to its end.
        await keyboard_log_in(page, portal_url, "our_learner")
        await page.goto(f"{portal_url}/plans")
        await page.locator(f'[data-plan="{plan_id}"]').get_by_role("button", name="去激活").click()
        await page.locator("#confirm-dialog").get_by_role("button", name="确定").click()
        await expect(page).to_have_url(f"{portal_url}/plans/{plan_id}")
        await page.get_by_role("link", name="学习课程").click()
        await page.get_by_role("link", name="第一节 准则概述").click()
        await expect(page).to_have_url(re.compile(r"/chapters/\d+$"))
        await wait_for_frame(frames, "playing")  # the server's go-ahead over /ws
        await page.evaluate("document.querySelector('video').play()")
        await expect(page.locator("#chapter-percent")).to_have_text(
            "100%", timeout=(CLIP_S + 15) * 1000
        )
        await snapshot(page, "journey-watched")

        # 我的考试 → 去考试: the right answers read off the paper, 交卷, the score.
        go = page.locator("tr[data-exam]").get_by_role("button", name="去考试")
        for _ in range(20):  # the flusher writes the completed course within a second or two
            await page.goto(f"{portal_url}/exams")
            if await go.count():
                break
            await page.wait_for_timeout(500)
        await go.click()
        await page.locator("#confirm-dialog").get_by_role("button", name="确定").click()
        await expect(page).to_have_url(re.compile(r"/exams/attempts/\d+$"))
        questions = page.locator(".question")
        await expect(questions).to_have_count(3)
        for index in range(3):
            question = questions.nth(index)
            kind = await question.get_attribute("data-type")
            await question.get_by_label(RIGHT if kind == "single" else "正确").check()
            await expect(page.locator(".answer-card .cell").nth(index)).to_have_class(
                re.compile(r"\banswered\b")
            )
        await page.get_by_role("button", name="交卷").click()
        await page.locator("#confirm-dialog").get_by_role("button", name="确定").click()
        await expect(page).to_have_url(re.compile(r"/exams/attempts/\d+/result$"))
        await expect(page.locator("#score")).to_have_text("15")
        await expect(page.locator("#verdict")).to_have_text("考试通过")
        await snapshot(page, "journey-result")
    except Exception:
        await snapshot(page, "journey-failure")
        raise
    finally:
        await context.close()
    assert problems == []
