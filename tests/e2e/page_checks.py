"""The screens of the mobile and accessibility e2e tests, and the checks they make on any page: no
sideways scrolling, axe-core's rules, focus moved with the keyboard alone, the phone's navigation menu."""
from __future__ import annotations

from pathlib import Path

from browser_session import NO_OVERFLOW

# No sideways scrolling. As a phone (is_mobile) Chromium widens window.innerWidth to whatever overflows —
# the page is zoomed out, as a phone does — so the layout viewport (clientWidth) is compared too.
FITS = f"{NO_OVERFLOW} && document.documentElement.scrollWidth <= document.documentElement.clientWidth"

# A phone as Chromium emulates it: 390×844 CSS pixels (a common 6.1-inch phone), touch, mobile viewport.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}

# A hint cut off is a question the reader cannot finish: the names of the empty, visible one-line fields whose
# placeholder is wider than the room inside them, measured in the field's own font.
CUT_PLACEHOLDERS = """() => {
    const canvas = document.createElement('canvas').getContext('2d');
    return [...document.querySelectorAll('input[placeholder]')].filter(field => {
        if (!field.placeholder || field.value || field.offsetParent === null) return false;
        const style = getComputedStyle(field);
        canvas.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const room = field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return canvas.measureText(field.placeholder).width > room + 1;
    }).map(field => field.name || field.id);
}"""

# On a phone, a table squeezed into too little width: a cell a few characters wide holding more (a title
# set one character a line), or a field narrower than what it holds. Tables that cannot fit become cards.
SQUEEZED = """() => {
    const found = [];
    for (const cell of document.querySelectorAll('td')) {
        const width = cell.getBoundingClientRect().width;
        const text = cell.innerText.trim();
        if (width > 0 && width < 3 * parseFloat(getComputedStyle(cell).fontSize) && text.length > 3) {
            found.push(`a ${Math.round(width)} px cell holding ${text.slice(0, 12)}`);
        }
    }
    for (const field of document.querySelectorAll('input[type=text], input:not([type]), input[type=search]')) {
        if (field.offsetParent !== null && field.clientWidth < 160 && field.scrollWidth > field.clientWidth + 2) {
            found.push(`field ${field.name || field.id} (${field.clientWidth} px) cuts its value`);
        }
    }
    return found;
}"""

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"  # npm, package.json
BLOCKING = ("serious", "critical")


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands, one line each (rule, impact,
    the first offending elements). The context must have bypass_csp=True: axe is injected inline."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(v['targets'])}" for v in found
            if v["impact"] in BLOCKING]


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches `selector`, and check that the focus shows. Fails if
    it is not reached within `limit` presses: it would be out of keyboard reach."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            assert page.evaluate("() => document.activeElement.matches(':focus-visible')"), selector
            return
    raise AssertionError(f"{selector} not reached with {limit} × Tab")


def open_menu(page) -> None:
    """On a narrow screen: open the navigation menu with its toggler."""
    page.click("[data-nav-toggle]")
    page.wait_for_selector("#main-nav.show")


def type_date(page, selector: str, iso: str) -> None:
    """Type a date into the focused date field as a person does: its parts in the order the browser shows
    them, which follows the browser's language (年月日 in Chinese, 月日年 in American English)."""
    year, month, day = iso.split("-")
    for parts in ((year, month, day), (month, day, year), (day, month, year)):
        page.keyboard.type("".join(parts))
        if page.input_value(selector) == iso:
            return
        page.keyboard.press("Shift+Tab")  # back from the last part to the first, to type over them
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"could not type {iso} into {selector}")
