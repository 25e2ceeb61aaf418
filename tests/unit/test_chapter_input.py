"""What an administrator hands in for a chapter: a video recognised by its first bytes and
measured from ffmpeg's description of it, and key points written `mm:ss 标题`."""

import pytest

from engine.catalog.admin_types import KeyPoint
from engine.catalog.chapter_admin import parse_key_points, parse_moment
from engine.catalog.uploads import parse_duration, video_kind
from engine.errors import InvalidInput

FFMPEG_MP4 = b"""Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.part':
  Duration: 00:01:30.00, start: 0.000000, bitrate: 32 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 480x270
At least one output file must be specified
"""
FFMPEG_AUDIO_ONLY = b"""Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.part':
  Duration: 00:03:00.50, start: 0.000000, bitrate: 128 kb/s
  Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo
"""


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00", "mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00", "mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81", "webm"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", None),
        (b"GIF89a\x01\x00\x01\x00\x00\x00", None),
        (b"\x00\x00\x00\x20ftyp", None),  # too short to be a box
    ],
)
def test_video_kind_from_first_bytes(head: bytes, kind: str | None) -> None:
    assert video_kind(head) == kind


@pytest.mark.parametrize(
    ("output", "duration"),
    [
        (FFMPEG_MP4, 90.0),
        (FFMPEG_MP4.replace(b"00:01:30.00", b"01:02:03.25"), 3723.25),
        (FFMPEG_MP4.replace(b"00:01:30.00", b"N/A"), None),
        (FFMPEG_MP4.replace(b"00:01:30.00", b"00:00:00.00"), None),
        (FFMPEG_AUDIO_ONLY, None),
        (b"x.part: Invalid data found when processing input\n", None),
    ],
)
def test_duration_from_ffmpeg_output(output: bytes, duration: float | None) -> None:
    assert parse_duration(output) == duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("05:30", 330.0),
        ("0:07", 7.0),
        ("125:00", 7500.0),
        ("1:02:03", 3723.0),
        (" 00:00 ", 0.0),
        ("5:60", None),
        ("1:60:00", None),
        ("330", None),
        ("-1:00", None),
        ("５:30", None),  # full-width digits: not a time a person meant to type here
    ],
)
def test_moments(text: str, seconds: float | None) -> None:
    assert parse_moment(text) == seconds


def test_key_points_one_a_line() -> None:
    assert parse_key_points("00:05 课程导入\n\n  01:10   案例分析 一 \n") == [
        KeyPoint(at_s=5.0, title="课程导入"),
        KeyPoint(at_s=70.0, title="案例分析 一"),
    ]
    assert parse_key_points("") == []


def test_every_bad_key_point_line_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_key_points("5分钟 导入\n00:10\n00:20 " + "长" * 101)
    assert caught.value.fields == {
        "key_points": "第1行：时间应写成“分:秒”，如 05:30；第2行：请在时间后填写标题；"
        "第3行：标题不能超过100个字"
    }
