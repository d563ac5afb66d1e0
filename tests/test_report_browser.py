"""The report in a real browser (headless Debian chromium): charts render, the viewer script runs, the URL
hash drives the filters, and a screenshot is saved as a test artifact. No browser is ever downloaded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_report import build_db  # the same synthetic database as the unit tests

from antischeme.report import write_report

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless browser tests need Debian's chromium: apt-get install chromium"
)
ARTIFACTS = Path(os.environ.get("ANTISCHEME_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


def _chromium(url: str, *args: str, profile: Path) -> str:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", "--virtual-time-budget=3000",
        *args, url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Dom(HTMLParser):
    """What the tests look at in the dumped DOM: transcripts, the viewer state, and drawn SVG shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.transcripts: list[dict[str, str | None]] = []
        self.viewer: dict[str, str | None] = {}
        self.count = ""
        self.svgs = 0
        self.svg_shapes = 0
        self.scripts = 0
        self._in_svg = 0
        self._in_count = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "svg":
            self.svgs += 1
            self._in_svg += 1
        elif self._in_svg and tag in ("path", "rect") and (attributes.get("d") or attributes.get("width")):
            self.svg_shapes += 1
        if tag == "article" and "transcript" in (attributes.get("class") or ""):
            self.transcripts.append(attributes)
        if attributes.get("id") == "viewer":
            self.viewer = attributes
        if attributes.get("id") == "viewer-count":
            self._in_count = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg -= 1
        if tag == "span":
            self._in_count = False

    def handle_data(self, data: str) -> None:
        if self._in_count:
            self.count += data


def _dom(html: str) -> _Dom:
    dom = _Dom()
    dom.feed(html)
    return dom


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    return write_report(build_db(tmp / "results.duckdb"), tmp / "report.html")


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "chromium-profile"


def test_charts_render_and_viewer_runs(page: Path, profile: Path) -> None:
    dom = _dom(_chromium(page.as_uri(), "--dump-dom", profile=profile))
    assert dom.svgs >= 3 and dom.svg_shapes > 50
    assert dom.viewer.get("data-ready") == "1"  # set by viewer.js as its last step
    assert len(dom.transcripts) == 53
    assert all(t.get("hidden") is None for t in dom.transcripts)
    assert dom.count == "showing 53 of 53"
    # the model's "<script>alert(1)</script>" stayed text: the report's own script is the only one in the DOM
    assert dom.scripts == 1


@pytest.mark.parametrize(
    ("fragment", "family", "flag", "expected"),
    [
        ("family=email_scoring&flag=covert", "email_scoring", "covert", 4),
        ("family=log_falsification&flag=error", "log_falsification", "error", 1),
        ("family=sandbagging_qa_no_goal&flag=covert&group=after", "sandbagging_qa_no_goal", "covert", 2),
    ],
)
def test_hash_filters_transcripts(
    page: Path, profile: Path, fragment: str, family: str, flag: str, expected: int
) -> None:
    dom = _dom(_chromium(f"{page.as_uri()}#{fragment}", "--dump-dom", profile=profile))
    visible = [t for t in dom.transcripts if t.get("hidden") is None]
    assert len(visible) == expected
    assert all(t["data-family"] == family and flag in (t["data-flags"] or "").split() for t in visible)
    hidden_matching = [
        t for t in dom.transcripts
        if t.get("hidden") is not None and t["data-family"] == family and flag in (t["data-flags"] or "").split()
        and ("group=" not in fragment or t["data-group"] == fragment.rsplit("group=", 1)[1])
    ]
    assert not hidden_matching
    assert dom.count == f"showing {expected} of 53"
    assert dom.viewer.get("data-shown") == str(expected)


def test_screenshot_is_not_blank(page: Path, profile: Path) -> None:
    from PIL import Image, ImageStat

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    _chromium(page.as_uri(), f"--screenshot={shot}", "--window-size=1280,2400", profile=profile)
    assert shot.exists()
    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        gray = image.convert("L")
        assert ImageStat.Stat(gray).stddev[0] > 10  # text, tables and bars, not a blank page
        # coloured pixels: the group colours of the bar charts were painted
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
        assert sum(count for count, (r, g, b) in colours if max(r, g, b) - min(r, g, b) > 80) > 5000


def test_importance_flag_filters_and_highlights_survive_the_viewer(tmp_path: Path, profile: Path) -> None:
    from test_report import COVERT_QUOTE, _importance

    rollouts = [_importance("before/email_scoring/0", "/x.eval", "x", [(f"I could {COVERT_QUOTE}.", 0.75)]),
                _importance("after/email_scoring/1", "/y.eval", "y", [("Done.", -0.5)])]
    most = [{**r["sentences"][0], "rollout_id": r["rollout_id"], "family": r["family"]} for r in rollouts]
    result = {"mode": "suite", "model": "m", "k": 4, "threshold": 0.8, "sentences": 2, "unmeasured": 0,
              "selection": {"measured": 2}, "rollouts": rollouts, "most_important": most}
    page = write_report(build_db(tmp_path / "results.duckdb"), tmp_path / "importance.html", importance=result)
    html = _chromium(f"{page.as_uri()}#flag=importance", "--dump-dom", profile=profile)
    dom = _dom(html)
    visible = [t["data-rollout"] for t in dom.transcripts if t.get("hidden") is None]
    assert sorted(visible) == ["after/email_scoring/1", "before/email_scoring/0"] and dom.count == "showing 2 of 53"
    assert 'class="hl hl-importance_up" title="importance +0.75' in html
    assert 'class="hl hl-importance_down" title="importance -0.50' in html
