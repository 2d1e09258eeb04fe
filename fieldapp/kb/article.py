"""An article's body as the tablet shows it: paragraphs, and figures written on a line of
their own as ``![caption](file.png)``. Figures come from the app's bundled images
(``resources/kb/``) or, for those uploaded in the office (named ``<sha256>.<ext>``), from
the copies the tablet fetched after a sync (``FETCHED_DIR`` in its data folder), so an
article shows them with no network; a figure whose file is missing keeps its caption and
says it is missing.

    html = article_html(article, [IMAGE_DIR, fetched_dir(data_dir)])
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fieldapp.resources import resource

IMAGE_DIR = resource("kb")
FIGURE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<name>[\w.-]+\.(?:png|jpg|jpeg))\)$")
UPLOADED = re.compile(r"(?P<sha>[0-9a-f]{64})\.(?:png|jpg|jpeg)")  # the office's, by content
FETCHED_DIR = "kb_figures"
FIGURE_WIDTH = 520  # px: fits the article pane beside the results on a 1280 px screen


def fetched_dir(data_dir: Path) -> Path:
    """Where the tablet keeps the uploaded figures of the articles it has."""
    return Path(data_dir) / FETCHED_DIR


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


def article_html(article: Mapping[str, Any], image_dir: Path | Sequence[Path] = IMAGE_DIR,
                 missing: str = "（图片缺失）") -> str:
    """The article as rich text; each figure from the first of ``image_dir`` that has it."""
    folders = [image_dir] if isinstance(image_dir, Path) else list(image_dir)
    parts = [f"<h2>{html.escape(article['title'])}</h2>"]
    for kind, text, name in blocks(article.get("body") or ""):
        if kind == "p":
            parts.append(f"<p>{html.escape(text)}</p>")
            continue
        # FIGURE allows no separators: never outside the folders.
        path = next((f / name for f in folders if (f / name).is_file()), None)
        caption = html.escape(text)
        if path is not None:
            parts.append(f'<p><img src="{path.as_uri()}" width="{FIGURE_WIDTH}"><br>'
                         f"<i>{caption}</i></p>")
        else:
            parts.append(f"<p><i>{caption} {html.escape(missing)}</i></p>")
    return "".join(parts)
