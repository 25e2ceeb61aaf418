"""The time comes from the application's clock, and web/ parses ids through web/decoding.py."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# engine/clock.py holds the system clock and the conversions; nothing else reads the time.
CLOCK_MODULE = ROOT / "engine" / "clock.py"
WALL_CLOCK = {
    r"datetime\.now\(|time\.time\(|date\.today\(": "the clock the application was built with",
    r"fromtimestamp\(": "engine.clock.utc_time / china_time",
}
WEB_ONLY = {r"\.isdigit\(\)": "web.decoding.parse_id"}


def modules(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if path != CLOCK_MODULE)


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [(path, WALL_CLOCK) for path in modules("engine")]
    + [(path, WALL_CLOCK | WEB_ONLY) for path in modules("web")],
    ids=lambda value: str(value.relative_to(ROOT)) if isinstance(value, Path) else "",
)
def test_module_reads_the_injected_clock(path: Path, forbidden: dict[str, str]) -> None:
    source = path.read_text(encoding="utf-8")
    for pattern, instead in forbidden.items():
        found = re.search(pattern, source)
        assert found is None, f"{path.name}: {found[0] if found else ''} — use {instead}"
