"""Make the demo clips under media/demo/ and their manifest clips.json.

Run once by a developer (`.venv/bin/python scripts/make_demo_media.py`); the clips and the
manifest are committed, so neither seeding nor serving needs ffmpeg. Each clip shows its
title, a running timestamp (mm:ss and seconds with tenths) and a progress bar, so a tester
can read the playback position off the picture and compare it with what the server
recorded. The ffmpeg binary comes from PyPI `imageio-ffmpeg` (the `dev` extra).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg

OUTPUT_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"
WIDTH, HEIGHT, FPS = 480, 270, 10
# (file, title, seconds, background): lengths differ so chapters differ in duration.
CLIPS = [
    ("clip1.mp4", "演示视频一 · 课程导学", 90, "0x1f3b5a"),
    ("clip2.mp4", "演示视频二 · 政策解读", 60, "0x2d4a2b"),
    ("clip3.mp4", "演示视频三 · 案例分析", 120, "0x4a2b3b"),
    ("clip4.mp4", "演示视频四 · 总结与练习", 75, "0x3b3b4a"),
]
FOOTER = "Jixu 继续教育 · 演示片段（无声）"
# drawtext expansions, kept in files so that only the filtergraph needs escaping.
CLOCK_TEXT = "%{eif:floor(t/60):d:2}:%{eif:mod(floor(t),60):d:2}"
SECONDS_TEXT = "t = %{eif:floor(t):d}.%{eif:mod(floor(t*10),10):d} s"
FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
]


def find_cjk_font() -> Path:
    """A font with Simplified Chinese glyphs: fontconfig's choice, else a known path."""
    if shutil.which("fc-match"):
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", "sans-serif:lang=zh-cn"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if found and Path(found).exists() and ("CJK" in found or "wqy" in found):
            return Path(found)
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    sys.exit("no CJK font found; pass --font /path/to/a/font/with/chinese/glyphs")


def filter_escape(value: str) -> str:
    """Escape a value twice: for the filter's option list, then for the filtergraph."""
    for special in "\\':":
        value = value.replace(special, "\\" + special)
    for special in "\\'[],;":
        value = value.replace(special, "\\" + special)
    return value


def build_filter(font: Path, texts: dict[str, Path], seconds: int) -> str:
    def draw(textfile: Path, size: int, y: str, colour: str = "white") -> str:
        return (
            f"drawtext=fontfile={filter_escape(str(font))}:textfile={filter_escape(str(textfile))}"
            f":fontsize={size}:fontcolor={colour}:x=(w-text_w)/2:y={y}"
        )

    bar_y = HEIGHT - 34
    # The grey track first, then the orange bar sliding in over it, then the texts.
    track = f"[0]drawbox=x=0:y={bar_y}:w={WIDTH}:h=6:color=white@0.35:t=fill[track]"
    chain = [
        f"[track][1]overlay=x='-w+W*t/{seconds}':y={bar_y}:shortest=1",
        draw(texts["title"], 24, "22"),
        draw(texts["clock"], 84, "(h-text_h)/2-18"),
        draw(texts["seconds"], 20, "(h/2)+48", "0xf0c060"),
        draw(texts["footer"], 14, f"{HEIGHT - 22}", "white@0.7"),
    ]
    return track + ";" + ",".join(chain)


def make_clip(
    ffmpeg: str, font: Path, work: Path, name: str, title: str, seconds: int, bg: str
) -> Path:
    texts = {"title": title, "clock": CLOCK_TEXT, "seconds": SECONDS_TEXT, "footer": FOOTER}
    paths = {}
    for key, text in texts.items():
        paths[key] = work / f"{name}.{key}.txt"
        paths[key].write_text(text, encoding="utf-8")
    target = OUTPUT_DIR / name
    size = f"{WIDTH}x{HEIGHT}"
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c={bg}:s={size}:r={FPS}:d={seconds}",
        "-f", "lavfi", "-i", f"color=c=0xf0a030:s={WIDTH}x6:r={FPS}:d={seconds}",
        "-filter_complex", build_filter(font, paths, seconds),
        "-c:v", "libx264", "-preset", "veryslow", "-crf", "30", "-pix_fmt", "yuv420p",
        # A keyframe every 2 s keeps seeking snappy at little cost for such plain frames.
        "-g", str(FPS * 2), "-an", "-map_metadata", "-1", "-movflags", "+faststart",
        str(target),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=Path, help="a font file with Chinese glyphs")
    args = parser.parse_args()
    font = args.font or find_cjk_font()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    manifest = []
    with tempfile.TemporaryDirectory() as work:
        for name, title, seconds, bg in CLIPS:
            target = make_clip(ffmpeg, font, Path(work), name, title, seconds, bg)
            # Measured by decoding the file, so seeding trusts what a player will see.
            frames, measured = imageio_ffmpeg.count_frames_and_secs(str(target))
            manifest.append(
                {"file": name, "title": title, "duration_s": round(measured, 3), "frames": frames}
            )
            print(f"{name}: {measured:.3f} s, {frames} frames, {target.stat().st_size} bytes")
    (OUTPUT_DIR / "clips.json").write_text(
        json.dumps({"clips": manifest}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
