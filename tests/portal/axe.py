"""axe-core (tests/assets/axe.min.js, pinned in the Makefile) run on a Playwright page.

The portal's content policy forbids every script, so the page's browser context must be made
with ``bypass_csp=True``; the checker is then added as a script tag from the file, which the
policy would otherwise block.

    found = violations(page)            # serious and critical ones only
    assert not found, report(found)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[1] / "assets" / "axe.min.js"
SEVERE = ("serious", "critical")


def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations on the page as it is now, each with the page's
    path, the rule's id, impact and help, and the failing nodes' selectors and summaries."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    where = page.evaluate("location.pathname + location.search")
    return [{"page": where, "id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")}
                       for n in v["nodes"]]}
            for v in result["violations"] if v["impact"] in SEVERE]


def report(found: list[dict[str, Any]]) -> str:
    """The violations as lines a failing assertion can show."""
    lines = []
    for v in found:
        lines.append(f"{v['page']}: [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']} {summary}")
    return "\n".join(lines)
