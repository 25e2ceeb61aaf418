"""The account pages: two-step registration, login box, home, 个人资料, 修改密码."""

import re
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import id_card_number

Payload = Callable[..., dict[str, Any]]


async def csrf_token(client: TestClient, path: str) -> str:
    page = await client.get(path)
    assert page.status == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert match is not None
    return match.group(1)


async def register_by_form(client: TestClient, form: dict[str, Any]) -> Any:
    token = await csrf_token(client, "/register")
    return await client.post("/register", data={"csrf_token": token, **form}, allow_redirects=False)


async def log_in_by_form(client: TestClient, username: str, password: str) -> Any:
    token = await csrf_token(client, "/login")
    return await client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password, "next": "/"},
        allow_redirects=False,
    )


async def test_register_page_has_both_steps_and_the_manual_fields(client: TestClient) -> None:
    html = await (await client.get("/register")).text()
    for words in ("填写账号信息", "填写个人信息", "注册成功", "下一步", "上一步", "所属组织机构",
                  "真实姓名", "手机号", "证件类型", "出生日期", "性别", "民族", "工作职称",
                  "职称级别", "专业技术职称", "取得职称时间", "学历", "政治面貌", "基诺族"):  # fmt: skip
        assert words in html, words


async def test_register_then_log_in_and_see_the_home(
    client: TestClient, registration: Payload
) -> None:
    form = registration()
    response = await register_by_form(client, form)
    assert response.status == 302
    done = await client.get(response.headers["Location"])
    html = await done.text()
    assert "注册成功" in html
    assert "立即登录" in html
    response = await log_in_by_form(client, form["username"], form["password"])
    assert response.status == 302
    home = await (await client.get("/")).text()
    assert f"您好,{form['username']}" in home
    assert "个人设置" in home


async def test_register_form_errors_are_shown_per_field_without_echoing_passwords(
    client: TestClient, registration: Payload
) -> None:
    form = registration(phone="123", id_number="120101198506120010")
    response = await register_by_form(client, form)
    assert response.status == 400
    html = await response.text()
    assert "请输入正确的11位手机号" in html
    assert "身份证号校验位不正确" in html
    assert 'data-step="2"' in html
    assert form["password"] not in html
    assert form["real_name"] in html


async def test_taken_username_sends_the_learner_back_to_step_one(
    client: TestClient, registration: Payload
) -> None:
    form = registration()
    assert (await register_by_form(client, form)).status == 302
    again = registration(username=form["username"], id_number=id_card_number())
    response = await register_by_form(client, again)
    assert response.status == 409
    html = await response.text()
    assert "该用户名已被注册" in html
    assert 'data-step="1"' in html


async def test_login_box_refuses_a_wrong_password(
    client: TestClient, registration: Payload
) -> None:
    form = registration()
    await register_by_form(client, form)
    response = await log_in_by_form(client, form["username"], "Wrong2018x")
    assert response.status == 401
    assert "用户名或密码错误" in await response.text()


async def test_settings_pages_need_a_login(client: TestClient) -> None:
    response = await client.get("/settings/profile", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/login?next=/settings/profile"


async def test_login_redirect_stays_on_the_portal(
    client: TestClient, registration: Payload
) -> None:
    form = registration()
    await register_by_form(client, form)
    token = await csrf_token(client, "/login")
    response = await client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": form["username"],
            "password": form["password"],
            "next": "//evil.example/",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/"


async def test_profile_page_edits_details_and_shows_identity_read_only(
    client: TestClient, registration: Payload
) -> None:
    form = registration()
    await register_by_form(client, form)
    await log_in_by_form(client, form["username"], form["password"])
    html = await (await client.get("/settings/profile")).text()
    assert form["id_number"] in html
    assert 'name="id_number"' not in html
    assert 'name="username"' not in html
    token = await csrf_token(client, "/settings/profile")
    response = await client.post(
        "/settings/profile",
        data={
            "csrf_token": token,
            "org_id": str(form["org_id"]),
            "real_name": "李晓华",
            "phone": "13698765432",
            "ethnicity": "03",
            "gender": "female",
        },
    )
    assert response.status == 400
    assert "性别与身份证号不一致" in await response.text()
    response = await client.post(
        "/settings/profile",
        data={
            "csrf_token": token,
            "org_id": str(form["org_id"]),
            "real_name": "李晓华",
            "phone": "13698765432",
            "ethnicity": "03",
        },
    )
    assert response.status == 200
    html = await response.text()
    assert "个人资料已保存" in html
    assert 'value="李晓华"' in html
    assert '<option value="03" selected>回族</option>' in html


async def test_password_page_changes_the_password(
    client: TestClient, registration: Payload
) -> None:
    form = registration()
    await register_by_form(client, form)
    await log_in_by_form(client, form["username"], form["password"])
    html = await (await client.get("/settings/password")).text()
    for words in ("旧密码", "新密码", "密码强度", "确认密码", "修改并保存"):
        assert words in html
    token = await csrf_token(client, "/settings/password")
    change = {"csrf_token": token, "old_password": form["password"]}
    weak = await client.post(
        "/settings/password", data={**change, "new_password": "abc", "confirm_password": "abc"}
    )
    assert weak.status == 400
    assert "密码长度至少为8位" in await weak.text()
    good = await client.post(
        "/settings/password",
        data={**change, "new_password": "Fresh2019go", "confirm_password": "Fresh2019go"},
    )
    assert good.status == 200
    assert "密码已修改" in await good.text()
    await client.post("/logout", data={"csrf_token": token})
    assert (await log_in_by_form(client, form["username"], "Fresh2019go")).status == 302


async def test_app_page_explains_installing_the_portal(client: TestClient) -> None:
    home = await (await client.get("/")).text()
    assert '<a href="/app">APP下载</a>' in home
    page = await (await client.get("/app")).text()
    assert "添加到主屏幕" in page
    manifest = await client.get("/static/manifest.webmanifest")
    assert manifest.headers["Content-Type"].startswith("application/manifest+json")
    assert (await manifest.json(content_type=None))["start_url"] == "/"
