"""帮助 (F30) searched on the server, and the service points of §9 as an administrator edits them."""

import asyncio
import os
import re
import subprocess
import sys

from aiohttp.test_utils import TestClient

from engine.help.policy import POLICY
from engine.settings import Settings


def questions(html: str) -> list[str]:
    return re.findall(r'<details class="question" data-number="(\d+)"', html)


async def test_help_lists_the_manuals_questions_without_flash_or_ie(client: TestClient) -> None:
    response = await client.get("/help")
    assert response.status == 200
    html = await response.text()
    assert len(questions(html)) == 3 + 18
    assert "常见技术问题" in html
    assert "常见政策问题" in html
    assert "18、专业技术人员和管理人员继续教育与专业技术职称评定有何关系？" in html
    assert "HTML5" in html
    assert "Flash Player 11.0" not in html
    assert "IE版本内核" not in html
    assert "请安装" not in html


async def test_search_finds_a_policy_question_by_words_of_its_answer(client: TestClient) -> None:
    # "1.5%" and "职工工资总额" appear only in the answer to question 15.
    html = await (await client.get("/help", params={"q": "职工工资总额 1.5%"})).text()
    assert questions(html) == ["15"]
    assert "15、参加专业技术人员和管理人员继续教育学习所需费用有何规定？" in html
    assert "“职工工资总额 1.5%”的搜索结果：1个问题" in html
    assert "按<mark>职工工资总额</mark>的<mark>1.5%</mark>足额提取" in html
    hours = await (await client.get("/help", params={"q": "144学时"})).text()
    assert questions(hours) == ["4"]


async def test_search_reaches_the_technical_answers_and_says_when_nothing_matches(
    client: TestClient,
) -> None:
    html = await (await client.get("/help", params={"q": "焦点页"})).text()
    assert questions(html) == ["2"]
    assert "课程播放后再打开别的工作文档" in html
    none = await (await client.get("/help", params={"q": "量子纠缠"})).text()
    assert questions(none) == []
    assert "没有找到相关问题" in none
    # Text is searched as text: markup in the query is shown escaped, never run.
    markup = await (await client.get("/help", params={"q": "<b>学时</b>"})).text()
    assert "&lt;b&gt;学时&lt;/b&gt;" in markup
    assert "<b>" not in markup


def test_policy_questions_are_the_manuals_eighteen() -> None:
    assert [question.number for question in POLICY] == list(range(1, 19))
    assert all(question.answer for question in POLICY)
    # Question 4's answer crosses a page break in the manual; it is one paragraph here.
    assert "具有高级专业技术职称和从事高新技术工作" in POLICY[3].answer[0]


def jixu(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `jixu` command against the test's PostgreSQL."""
    assert settings.database_url is not None
    assert settings.redis_url is not None
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "JIXU_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-c", "from web.cli import main; main()", "service-points", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_service_points_are_the_manuals_and_the_command_edits_them(
    client: TestClient, settings: Settings
) -> None:
    html = await (await client.get("/service")).text()
    assert "全市已设立4个专业技术人员继续教育服务点" in html
    assert "天津市河西区友谊北路29号中国北方人才市场一楼5号、6号窗口" in html
    assert "北辰服务点：北辰区人才交流服务中心" in html
    assert "60909267" in html
    listed = await asyncio.to_thread(jixu, settings, "list")
    assert listed.returncode == 0, listed.stderr
    beichen = next(line for line in listed.stdout.splitlines() if "北辰服务点" in line)
    point_id = beichen.split("\t")[0]

    edited = await asyncio.to_thread(
        jixu, settings, "edit", point_id, "--phone", "60909999", "--hours", "9:00—17:00（工作日）"
    )
    assert edited.returncode == 0, edited.stderr
    added = await asyncio.to_thread(
        jixu, settings, "add", "--name", "滨海新区服务点", "--phone", "66668888",
        "--address", "滨海新区新港路1号", "--hours", "8:30—17:00（工作日）",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    html = await (await client.get("/service")).text()
    assert "60909999" in html
    assert "60909230" not in html
    assert "9:00—17:00（工作日）" in html
    assert "全市已设立5个专业技术人员继续教育服务点" in html
    assert html.index("东丽区服务点") < html.index("滨海新区服务点")

    refused = await asyncio.to_thread(jixu, settings, "edit", point_id, "--address", " ")
    assert refused.returncode != 0
    assert "请填写地址" in refused.stderr
    missing = await asyncio.to_thread(jixu, settings, "remove", "999999")
    assert "服务点不存在" in missing.stderr
    removed = await asyncio.to_thread(jixu, settings, "remove", point_id)
    assert removed.returncode == 0, removed.stderr
    html = await (await client.get("/service")).text()
    assert "北辰服务点" not in html
    assert "滨海新区新港路1号" in html
