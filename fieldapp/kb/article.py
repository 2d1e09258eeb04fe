"""An article's body as the tablet shows it: paragraphs, and figures written on a line of
their own as ``![caption](file.png)``. Figures come from the app's bundled images
(``resources/kb/``), so an article needs no network and no upload to show them; a figure
whose file is missing keeps its caption and says it is missing.

    html = article_html(article, image_dir)
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fieldapp.resources import resource

IMAGE_DIR = resource("kb")
FIGURE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<name>[\w.-]+\.(?:png|jpg|jpeg))\)$")
FIGURE_WIDTH = 520  # px: fits the article pane beside the results on a 1280 px screen


def blocks(body: str) -> list[tuple[str, str, str]]:
    """("p", text, "") or ("figure", caption, file name), in order."""
    out = []
    for line in (body or "").split("\n"):
        line = line.strip()
        if not line:
            continue
        m = FIGURE.match(line)
        out.append(("figure", m["caption"], m["name"]) if m else ("p", line, ""))
    return out


def article_html(article: Mapping[str, Any], image_dir: Path = IMAGE_DIR,
                 missing: str = "（图片缺失）") -> str:
    parts = [f"<h2>{html.escape(article['title'])}</h2>"]
    for kind, text, name in blocks(article.get("body") or ""):
        if kind == "p":
            parts.append(f"<p>{html.escape(text)}</p>")
            continue
        path = image_dir / name  # FIGURE allows no separators: never outside the folder
        caption = html.escape(text)
        if path.is_file():
            parts.append(f'<p><img src="{path.as_uri()}" width="{FIGURE_WIDTH}"><br>'
                         f"<i>{caption}</i></p>")
        else:
            parts.append(f"<p><i>{caption} {html.escape(missing)}</i></p>")
    return "".join(parts)
