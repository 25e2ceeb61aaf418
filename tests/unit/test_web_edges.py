"""web/ reads the time from the application's clock and ids through web/decoding.py only."""

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
# What each pattern would bypass: the injected clock, engine.clock's conversions, parse_id.
FORBIDDEN = {
    r"datetime\.now\(|time\.time\(|date\.today\(": "the clock the application was built with",
    r"fromtimestamp\(": "engine.clock.utc_time / china_time",
    r"\.isdigit\(\)": "web.decoding.parse_id",
}


@pytest.mark.parametrize("path", sorted(WEB.glob("*.py")), ids=lambda path: path.name)
def test_web_module_keeps_to_the_edges(path: Path) -> None:
    source = path.read_text()
    for pattern, instead in FORBIDDEN.items():
        found = re.search(pattern, source)
        assert found is None, f"{path.name}: {found[0] if found else ''} — use {instead}"
