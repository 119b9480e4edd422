"""The dashboard's charts, drawn on the server as inline SVG (no JavaScript, no charting library):
horizontal bars, one colour per row or stacked by series, and the 销号率 bar with its target marker.
Labels are escaped; each bar carries a <title> with its figure for a tooltip and screen readers."""
from __future__ import annotations

from markupsafe import Markup, escape

LIGHT_COLOURS = {"绿": "#2e7d32", "蓝": "#1565c0", "黄": "#f9a825", "红": "#c62828", "已销号": "#9e9e9e"}
DARK_TEXT = {"#f9a825", "#9e9e9e"}  # fills on which white text would be hard to read
ROW, BAR, LEGEND = 30, 20, 28
LABEL_CHARS = 10


def _text(x: float, y: float, content, anchor: str = "start", fill: str = "#212529", size: int = 13,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}" dominant-baseline="middle">{escape(content)}</text>')


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"


def _svg(width: int, height: int, aria: str, body: list[str]) -> Markup:
    """An SVG that scales to its container; `width` is the width it is drawn for (text at its size there)."""
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
                  f'aria-label="{escape(aria)}" xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>')


def _legend(series: list[tuple[str, str]]) -> list[str]:
    parts, x = [], 0.0
    for name, colour in series:
        parts.append(f'<rect x="{x:.1f}" y="6" width="14" height="14" rx="2" fill="{colour}"/>')
        parts.append(_text(x + 20, 13, name, size=12))
        x += 20 + 13 * len(name) + 22
    return parts


def _hbars(rows: list[tuple[str, list[tuple[int, str, str]]]], aria: str, width: int,
           legend: list[tuple[str, str]] | None = None, label_width: int = 150) -> Markup:
    """Rows of (label, [(value, colour, series name), …]) as horizontal bars, segments left to right,
    scaled to the largest row total, with the total after each bar."""
    top = LEGEND if legend else 4
    plot = width - label_width - 44
    largest = max([sum(v for v, _, _ in segments) for _, segments in rows] + [1])
    body = _legend(legend) if legend else []
    for index, (label, segments) in enumerate(rows):
        y = top + index * ROW
        middle = y + ROW / 2
        body.append(f"<g><title>{escape(label)}：" + escape("，".join(f"{name} {v}" for v, _, name in segments))
                    + "</title>")
        body.append(_text(label_width - 8, middle, _short(label), anchor="end"))
        x = float(label_width)
        for value, colour, name in segments:
            if not value:
                continue
            length = plot * value / largest
            body.append(f'<rect x="{x:.1f}" y="{middle - BAR / 2:.1f}" width="{length:.1f}" height="{BAR}" fill="{colour}"/>')
            if len(segments) > 1 and length >= 22:
                fill = "#212529" if colour in DARK_TEXT else "#ffffff"
                body.append(_text(x + length / 2, middle, str(value), anchor="middle", fill=fill, size=12))
            x += length
        body.append(_text(x + 6, middle, str(sum(v for v, _, _ in segments)), weight="bold"))
        body.append("</g>")
    body.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{top + len(rows) * ROW}" '
                f'stroke="#adb5bd"/>')
    return _svg(width, top + len(rows) * ROW + 4, aria, body)


def bars(rows: list[tuple[str, int, str]], aria: str, width: int = 640) -> Markup:
    """One bar per row: (label, value, colour)."""
    return _hbars([(label, [(value, colour, label)]) for label, value, colour in rows], aria, width, label_width=70)


def stacked_bars(rows: list[tuple[str, list[int]]], series: list[tuple[str, str]], aria: str,
                 width: int = 640) -> Markup:
    """One bar per row, stacked: (label, [value per series]) with series (name, colour)."""
    return _hbars([(label, [(v, colour, name) for v, (name, colour) in zip(values, series)]) for label, values in rows],
                  aria, width, legend=series)


def rate_bar(rate: float | None, target: float, rate_text: str, target_text: str, width: int = 1200) -> Markup:
    """The closing rate as a filled bar, with a dashed marker and label at the target."""
    y, height = 24, 22
    filled = width * min(max(rate or 0, 0), 1)
    colour = "#2e7d32" if rate is not None and rate >= target else "#1565c0"
    marker = width * target
    body = [
        _text(0, 10, f"销号率 {rate_text}", size=14, weight="bold"),
        _text(marker - 8, 10, f"目标 {target_text}", anchor="end", fill="#c62828", size=13, weight="bold"),
        f'<rect x="0" y="{y}" width="{width}" height="{height}" rx="5" fill="#e9ecef"/>',
        f'<rect x="0" y="{y}" width="{filled:.1f}" height="{height}" rx="5" fill="{colour}"/>' if filled else "",
        f'<line x1="{marker:.1f}" y1="2" x2="{marker:.1f}" y2="{y + height + 4}" stroke="#c62828" stroke-width="2.5" '
        f'stroke-dasharray="5 3"/>',
    ]
    return _svg(width, y + height + 6, f"销号率 {rate_text}，目标 {target_text}", body)


TREND_SERIES = [("红灯", "红"), ("黄灯", "黄"), ("蓝灯", "蓝"), ("绿灯", "绿")]


def trend_chart(weeks: list[dict], width: int = 1200, height: int = 280) -> Markup:
    """The round week by week: open items stacked by light (red at the foot), closed items above them
    in grey, and the plan — items whose deadline has not come — as a dashed line (a burn-down)."""
    left, top, bottom = 44, LEGEND + 6, 26
    plot_w, plot_h = width - left - 10, height - top - bottom
    largest = max([w["open"] + w["closed"] for w in weeks] + [w["planned_open"] for w in weeks] + [1])
    step = plot_w / max(len(weeks), 1)
    bar = max(min(step * 0.7, 36), 2)
    series = [(name, LIGHT_COLOURS[light]) for name, light in TREND_SERIES] + [("已销号", LIGHT_COLOURS["已销号"])]
    body = _legend(series + [("计划未销号", "#212529")])
    for tick in (0, largest // 2, largest):
        y = top + plot_h - plot_h * tick / largest
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#dee2e6"/>')
        body.append(_text(left - 6, y, str(tick), anchor="end", size=11))
    label_every = max(1, round(len(weeks) / 12))
    points = []
    for index, week in enumerate(weeks):
        x = left + step * index + (step - bar) / 2
        y = top + plot_h
        parts = [(week[light], LIGHT_COLOURS[light], name) for name, light in TREND_SERIES] + [
            (week["closed"], LIGHT_COLOURS["已销号"], "已销号")]
        body.append(f"<g><title>{escape(week['day'])}：" + escape("，".join(f"{n} {v}" for v, _, n in parts))
                    + f"，计划未销号 {week['planned_open']}</title>")
        for value, colour, _ in parts:
            if value:
                h = plot_h * value / largest
                y -= h
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}"/>')
        body.append("</g>")
        points.append(f"{x + bar / 2:.1f},{top + plot_h - plot_h * week['planned_open'] / largest:.1f}")
        if index % label_every == 0 or index == len(weeks) - 1:
            body.append(_text(x + bar / 2, height - 10, week["day"][5:].replace("-", "/"), anchor="middle", size=11))
    body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#212529" stroke-width="2" '
                f'stroke-dasharray="6 4"/>')
    last = weeks[-1] if weeks else {"open": 0, "planned_open": 0}
    return _svg(width, height, f"逐周整改进度：目前未销号 {last['open']} 个，按计划应不多于 {last['planned_open']} 个", body)


PROGRESS_SERIES = [("已销号", LIGHT_COLOURS["已销号"]), ("整改中（未超期）", LIGHT_COLOURS["绿"]),
                   ("已超期", LIGHT_COLOURS["红"])]


def _progress_rows(rows: list[dict], key: str) -> list[tuple[str, list[int]]]:
    return [(str(r[key]), [r["closed"], r["open"] - r["overdue"], r["overdue"]]) for r in rows]


def dashboard_charts(d: dict) -> dict[str, Markup]:
    """The charts of a dashboard (engine.dashboard figures): the closing rate, lights, categories, units."""
    return {
        "rate": rate_bar(d["closing_rate"], d["target_rate"], d["closing_rate_text"], d["target_rate_text"]),
        "lights": bars([(light if light == "已销号" else f"{light}灯", n, LIGHT_COLOURS[light])
                        for light, n in d["lights"].items()], "各灯色问题数", width=480),
        "categories": stacked_bars(_progress_rows(d["by_category"], "category"), PROGRESS_SERIES, "按整改类别的整改进度",
                                   width=700),
        "units": stacked_bars(_progress_rows(d["by_unit"], "unit"), PROGRESS_SERIES, "按责任单位的整改进度"),
    } | ({"trend": trend_chart(d["trend"]["weeks"])} if d.get("trend") else {})
