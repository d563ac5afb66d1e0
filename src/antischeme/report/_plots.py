"""Report charts: matplotlib figures rendered to inline SVG strings.

Figures are built with `matplotlib.figure.Figure` directly rather than through pyplot, so making a report
never touches the global backend or pyplot's figure registry (safe inside notebooks and threads); saving
to SVG uses matplotlib's own SVG canvas, the same output the Agg-based `savefig` path gives.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..analysis import Rate

# Colour-blind-safe (Okabe-Ito); the first group ("before") is blue, the second ("after") orange.
GROUP_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

_RC = {
    "svg.fonttype": "none",  # text stays text: smaller files, selectable, and searchable in tests
    "svg.hashsalt": "antischeme",  # deterministic ids, so the same data gives the same report
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "legend.frameon": False,
}

NA_LABEL = "n/a (0 engaged)"


def group_color(index: int) -> str:
    """The colour of the index-th group (cycled)."""
    return GROUP_COLORS[index % len(GROUP_COLORS)]


def rate_chart(
    labels: Sequence[str],
    groups: Sequence[str],
    rates: Sequence[Sequence[Rate | str | None]],
    *,
    xlabel: str,
    na_label: str = NA_LABEL,
) -> str:
    """Horizontal bars of rates with 95% intervals, one bar per group side by side in each row.

    Args:
        labels: Row labels, top to bottom (families, graders).
        groups: Group names (legend), in bar order.
        rates: rates[row][group]; a string draws no bar and writes that note instead (None: `na_label`).
        xlabel: Label of the rate axis.
        na_label: Note for a row/group without data.
    """
    n_rows, n_groups = len(labels), max(len(groups), 1)
    bar = 0.8 / n_groups
    with matplotlib.rc_context(_RC):
        height = 0.9 + n_rows * (0.16 * n_groups + 0.12) + (0.3 if n_groups > 1 else 0)
        fig = Figure(figsize=(7.6, height), layout="constrained")
        ax = fig.add_subplot()
        for g, group in enumerate(groups):
            ys = np.arange(n_rows) + (g - (n_groups - 1) / 2) * bar
            for y, row in zip(ys, rates):
                rate = row[g]
                if not isinstance(rate, Rate) or rate.n == 0:
                    note = rate if isinstance(rate, str) else na_label
                    ax.text(0.005, y, note, va="center", ha="left", fontsize=7, color="#777777", style="italic")
                    continue
                ax.barh(y, rate.mean, height=bar * 0.9, color=group_color(g), alpha=0.85)
                err = [[rate.mean - rate.low], [rate.high - rate.mean]]
                ax.errorbar(rate.mean, y, xerr=err, fmt="none", ecolor="#333333", elinewidth=0.9, capsize=2)
                ax.text(rate.high + 0.01, y, f"{rate.k}/{rate.n}", va="center", ha="left", fontsize=7, color="#444444")
            # an invisible artist per group so the legend shows every group even if one has only n/a rows
            ax.barh(np.nan, 0, color=group_color(g), label=_text(group))
        ax.set_yticks(np.arange(n_rows), [_text(label) for label in labels])
        ax.set_ylim(n_rows - 0.5, -0.5)  # first row on top
        ax.set_xlim(0, 1.12)  # room for the k/n labels right of a 100% interval
        ax.set_xticks(np.linspace(0, 1, 6))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        if n_rows > 12:  # a tall chart gets the scale on top too, readable without scrolling to the bottom
            ax.tick_params(axis="x", top=True, labeltop=True)
        if n_groups > 1:
            fig.legend(loc="outside upper center", ncols=min(n_groups, 4), fontsize=8)
        return _svg(fig)


def histogram_chart(values: Mapping[str, Sequence[float]], *, xlabel: str, bins: int = 30) -> str:
    """Overlaid step histograms (one per group, shared bins) with each group's median as a dashed line.

    Args:
        values: Group name → values (e.g. CoT tokens per rollout); groups keep their colour by position.
        xlabel: Label of the value axis.
        bins: Number of shared bins.
    """
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.6, 2.8), layout="constrained")
        ax = fig.add_subplot()
        finite = [np.asarray(v, dtype=float) for v in values.values() if len(v)]
        if not finite:
            ax.text(0.5, 0.5, "no CoT lengths recorded", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return _svg(fig)
        edges = np.histogram_bin_edges(np.concatenate(finite), bins=bins)
        for g, (group, data) in enumerate(values.items()):
            data = np.asarray(data, dtype=float)
            if not len(data):
                continue
            median = float(np.median(data))
            color = group_color(g)
            ax.hist(data, bins=edges, histtype="step", linewidth=1.6, color=color,
                    label=f"{_text(group)} (n={len(data)}, median={median:.0f})")
            ax.hist(data, bins=edges, histtype="stepfilled", alpha=0.12, color=color)
            ax.axvline(median, color=color, linestyle="--", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("rollouts")
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="upper right", fontsize=8)
        return _svg(fig)


def early_answering_chart(result: Mapping[str, Any]) -> str:
    """Agreement with the full-CoT answer and accuracy against the share of the CoT kept."""
    curve = result["early_answering"]
    x = [100 * f for f in curve["fractions"]]
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, curve["agreement"], marker="o", color=group_color(0), label="same answer as with the full CoT")
    ax.plot(x, curve["accuracy"], marker="s", color=group_color(1), label="correct")
    ax.set(xlabel="% of the CoT kept before the answer is forced", ylabel="share of problems", ylim=(-0.02, 1.02))
    ax.grid(color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", fontsize=8)
    return _svg(fig)


def _svg(fig: Figure) -> str:
    """The figure as an `<svg>` element for inlining: no XML prolog or metadata, ids unique in the page."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    # Several figures share one HTML document, where ids are global: matplotlib's ids (clip paths, markers,
    # "figure_1") would collide across figures, so each figure's ids get their own prefix.
    # The prefix hashes the content: deterministic, and two figures only share it if they are identical.
    prefix = "f" + hashlib.sha1(svg.encode()).hexdigest()[:8] + "-"
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        names = "|".join(map(re.escape, sorted(ids, key=len, reverse=True)))
        pattern = re.compile(r'(\bid="|url\(#|href="#)(' + names + r')(?=["\)])')
        svg = pattern.sub(lambda m: m.group(1) + prefix + m.group(2), svg)
    svg = svg.replace("<svg ", '<svg class="chart" role="img" ', 1)
    return svg


def _text(label: str) -> str:
    # "$" would switch matplotlib into mathtext (a run name like "a$b$" must print as typed)
    return label.replace("$", r"\$")


def suite_early_answering_chart(result: Mapping[str, Any]) -> str:
    """Agreement of the forced next action with the rollout's own against the share of the CoT kept."""
    x = [100 * f for f in result["fractions"]]
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, result["agreement"], marker="o", color=group_color(0), label="same tool call (name and arguments)")
    ax.plot(x, result["same_tool"], marker="s", color=group_color(1), label="same tool")
    ax.set(xlabel="% of the decisive turn's CoT kept before the action is forced", ylabel="share of rollouts",
           ylim=(-0.02, 1.02))
    ax.grid(color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="best", fontsize=8)  # the curves may run along any edge
    return _svg(fig)


# the suite faithfulness conditions, in the order the report lists them
SUITE_CONDITIONS = {"full_cot": "full CoT (100% cut)", "no_cot": "no CoT (0% cut)", "summary": "summary",
                    "mistakes": "added mistake", "paraphrase": "paraphrase", "filler": "filler"}


def suite_controls_chart(controls: Mapping[str, Mapping[str, Any]]) -> str:
    """Per condition (full CoT, no CoT and the controls), the share of rollouts whose forced next action
    is the rollout's own tool call, and the share with the same tool, with 95% intervals and k/n."""
    from ..analysis import beta_rate

    names = [c for c in SUITE_CONDITIONS if c in controls] + [c for c in controls if c not in SUITE_CONDITIONS]
    rows = [[beta_rate(round(share * c["n"]), c["n"]) if (share := c[field]) is not None else "n/a (none measured)"
             for field in ("agreement", "same_tool")] for c in (controls[name] for name in names)]
    return rate_chart([SUITE_CONDITIONS.get(name, name) for name in names], ["same tool call", "same tool"], rows,
                      xlabel="share of rollouts (posterior mean, 95% interval)")


def importance_chart(rows: Sequence[Mapping[str, Any]], *, width: int = 60) -> str:
    """Horizontal bars of the most important sentences' importance (ΔP(covert)), raising and lowering apart.

    Args:
        rows: Measured sentences (text, importance), most important first.
        width: Most characters of a sentence label.
    """
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.6, 0.9 + 0.32 * max(1, len(rows))), layout="constrained")
        ax = fig.add_subplot()
        labels = [_text(r["text"] if len(r["text"]) <= width else r["text"][: width - 1] + "…") for r in rows]
        values = [r["importance"] for r in rows]
        y = np.arange(len(rows))[::-1]
        ax.barh(y, values, color=["#D55E00" if v > 0 else "#0072B2" for v in values], height=0.6)
        ax.set_yticks(y, labels, fontsize=8)
        ax.axvline(0, color="#888888", linewidth=0.8)
        ax.set_xlim(-1.05, 1.05)
        ax.set_xlabel("importance: P(covert | after) − P(covert | different sentence)")
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        return _svg(fig)
