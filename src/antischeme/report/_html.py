"""HTML rendering: the Jinja template, its filters, and highlighting of grader quotes in model text.

Everything the model wrote is untrusted: it reaches the page only through Jinja's autoescaping or
`highlight`, which escapes every piece of text itself and adds nothing but its own `<mark>` tags.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ..analysis import Rate
from ._plots import SUITE_CONDITIONS

if TYPE_CHECKING:
    from ._report import ReportContext

_CLASS_SAFE = re.compile(r"[^a-z0-9_]")


def highlight(text: str | None, highlights: Mapping[str, Sequence[str]], notes: Mapping[str, str] | None = None) -> Markup:
    """HTML of `text` with every occurrence of each grader's quotes wrapped in `<mark>`.

    Matching runs on the raw text (a quote containing "<" still matches), and each piece between match
    boundaries is escaped on its own, so no model text is ever emitted unescaped. Where quotes of several
    graders overlap, the overlapping piece carries all their classes.

    Args:
        text: Model output (message text or reasoning); None gives an empty string.
        highlights: Grader name → exact substrings to mark.
        notes: Quote → text shown on hover instead of the grader's name (e.g. a sentence's importance).
    """
    if not text:
        return Markup("")
    notes = notes or {}
    spans: list[tuple[int, int, str]] = []
    labels: dict[tuple[str, int], str] = {}  # (grader, start) -> hover text of that match
    for grader, quotes in highlights.items():
        for quote in {q for q in quotes if q}:  # an empty quote would match everywhere
            start = text.find(quote)
            while start != -1:
                spans.append((start, start + len(quote), grader))
                if quote in notes:
                    labels[(grader, start)] = notes[quote]
                start = text.find(quote, start + len(quote))
    if not spans:
        return escape(text)
    # Sweep over the match boundaries, keeping how many matches of each grader cover the current piece
    # (linear in the number of matches, however many there are: a one-letter quote must not be quadratic).
    # a grader's matches are told apart by their hover text when they have one
    spans = [(s, e, f"{g}\x00{labels[(g, s)]}" if (g, s) in labels else g) for s, e, g in spans]
    starts: dict[int, list[str]] = defaultdict(list)
    ends: dict[int, list[str]] = defaultdict(list)
    for s, e, g in spans:
        starts[s].append(g)
        ends[e].append(g)
    active: Counter[str] = Counter()
    runs: list[tuple[int, int, tuple[str, ...]]] = []  # (start, end, graders), neighbours merged
    for a, b in itertools.pairwise(sorted({0, len(text)} | starts.keys() | ends.keys())):
        active.subtract(ends.get(a, []))
        active.update(starts.get(a, []))
        graders = tuple(sorted(g for g, count in active.items() if count > 0))
        if runs and runs[-1][2] == graders:
            runs[-1] = (runs[-1][0], b, graders)
        else:
            runs.append((a, b, graders))
    pieces = []
    for a, b, keys in runs:
        piece = escape(text[a:b])
        if keys:
            graders = sorted({k.split("\x00")[0] for k in keys})
            classes = " ".join(f"hl-{_CLASS_SAFE.sub('_', g.lower())}" for g in graders)
            extra = " hl-multi" if len(graders) > 1 else ""
            title = ", ".join(k.split("\x00", 1)[1] if "\x00" in k else k for k in keys)
            piece = Markup('<mark class="hl {}{}" title="{}">{}</mark>').format(
                Markup(classes), Markup(extra), title, piece
            )
        pieces.append(piece)
    return Markup("").join(pieces)


def pct(value: float | None, digits: int = 1) -> str:
    """A proportion as a percentage ("33.3%"); "—" for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}%}"


def rate_ci(rate: Rate | None) -> str:
    """ "mean [low, high]" in percent, as every rate in the report is written."""
    if rate is None:
        return "n/a"
    return f"{rate.mean:.1%} [{rate.low:.1%}, {rate.high:.1%}]"


def pvalue(p: float | None) -> str:
    """A p-value with three significant digits ("<0.001" below that)."""
    if p is None or math.isnan(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def number(value: float | None, digits: int = 0) -> str:
    """A number with fixed decimals; "—" for None or NaN; "∞" for infinity."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:,.{digits}f}"


def breakable(name: str) -> Markup:
    """Escaped text that may wrap after underscores (long family names in narrow table columns)."""
    return Markup("_<wbr>").join(escape(part) for part in name.split("_"))


def css_class(name: str) -> str:
    """A string made safe as one CSS class token."""
    return _CLASS_SAFE.sub("_", name.lower())


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("antischeme.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a typo in the template fails loudly instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        highlight=highlight, pct=pct, rate_ci=rate_ci, pvalue=pvalue, number=number, css_class=css_class,
        breakable=breakable,
    )
    env.globals.update(suite_conditions=SUITE_CONDITIONS)
    return env


def _asset(name: str) -> str:
    return files("antischeme.report").joinpath("assets", name).read_text(encoding="utf-8")


def render(context: ReportContext) -> str:
    """The report as one self-contained HTML document (CSS, JS and charts inline).

    Args:
        context: A `ReportContext`.
    """
    script = _asset("viewer.js")
    if "</script" in script.lower():  # would end the inline <script> early
        raise ValueError("viewer.js must not contain '</script'")
    # The page's Content-Security-Policy allows exactly this script, by hash.
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return _environment().get_template("report.html").render(
        c=context, css=Markup(_asset("report.css")), script=Markup(script), script_hash=script_hash
    )
