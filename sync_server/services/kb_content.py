"""What a knowledge-base article may hold, as the office writes it: the limits on its fields,
fault codes, and figures placed in its body (``[图N]``), checked in words; and the body as
published and as pages show it. Storage, versions and who may publish are in
``kb_authoring.py``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from fieldapp.kb.article import blocks
from sync_server.errors import ApiError

TITLE_MAX = 120
CATEGORY_MAX = 20
BODY_MAX = 20_000  # characters: a long procedure is a few thousand
TAGS_MAX, TAG_MAX = 20, 20
CODES_MAX = 40
FIGURES_MAX = 12
CAPTION_MAX = 80
FIGURE_TYPES = {"image/png": "png", "image/jpeg": "jpg"}  # the tablet shows PNG and JPEG
PUBLIC_TAG = "公开"
# E1, E03, F-12, ER102: letters then digits, as meters and appliances show them.
FAULT_CODE = re.compile(r"[A-Z]{1,3}-?\d{1,4}")
PLACE = re.compile(r"^\[图(\d{1,2})\]$")  # a line "[图2]" places figure 2 there
SPLIT = re.compile(r"[\s,，、;；]+")


class Invalid(ApiError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(422, "invalid_article", "；".join(problems))
        self.problems = problems


@dataclass
class Edit:
    """What an editor sends: the fields as typed, and figure changes."""

    title: str
    category: str
    tags: list[str]
    fault_codes: list[str]
    body: str
    captions: dict[str, str] = field(default_factory=dict)  # sha256 → new caption
    remove: set[str] = field(default_factory=set)  # sha256 of figures to drop
    new_figure: dict[str, Any] | None = None  # sha256, ext, mime, width, height, caption


def words(text: str) -> list[str]:
    """A tags or codes field as typed: split on spaces, commas and 、, duplicates dropped."""
    out: list[str] = []
    for w in SPLIT.split(text or ""):
        if w and w not in out:
            out.append(w)
    return out


def check(edit: Edit) -> Edit:
    """The edit with its fields tidied, or Invalid listing every problem in words."""
    title, category, body = edit.title.strip(), edit.category.strip(), \
        edit.body.replace("\r\n", "\n").strip()
    codes = [c.upper() for c in edit.fault_codes]
    problems = []
    if not title:
        problems.append("请填写标题")
    if len(title) > TITLE_MAX:
        problems.append(f"标题最多 {TITLE_MAX} 个字（现有 {len(title)} 个）")
    if not category:
        problems.append("请选择或填写分类")
    if len(category) > CATEGORY_MAX:
        problems.append(f"分类最多 {CATEGORY_MAX} 个字")
    if len(body) > BODY_MAX:
        problems.append(f"正文最多 {BODY_MAX} 个字（现有 {len(body)} 个）")
    if len(edit.tags) > TAGS_MAX or any(len(t) > TAG_MAX for t in edit.tags):
        problems.append(f"标签最多 {TAGS_MAX} 个，每个最多 {TAG_MAX} 个字")
    bad = [c for c in codes if not FAULT_CODE.fullmatch(c)]
    if bad:
        problems.append(f"故障代码应为字母加数字（如 E1、E03），不认识：{'、'.join(bad[:5])}")
    if len(codes) > CODES_MAX:
        problems.append(f"故障代码最多 {CODES_MAX} 个")
    if any(len(c) > CAPTION_MAX for c in edit.captions.values()) or (
            edit.new_figure and len(edit.new_figure.get("caption", "")) > CAPTION_MAX):
        problems.append(f"图片说明最多 {CAPTION_MAX} 个字")
    if problems:
        raise Invalid(problems)
    return replace(edit, title=title, category=category, body=body, fault_codes=codes,
                   captions={k: v.strip() for k, v in edit.captions.items()})


def composed_body(body: str, figures: Iterable[dict[str, Any]]) -> str:
    """The body as published: a line ``[图N]`` becomes figure N, figures not placed follow
    the text, each as ``![caption](<sha256>.<ext>)`` on a line of its own."""
    figures = list(figures)
    placed: set[int] = set()
    lines = []
    for line in body.split("\n"):
        m = PLACE.match(line.strip())
        n = int(m[1]) if m else 0
        if m and 1 <= n <= len(figures) and n not in placed:
            placed.add(n)
            lines.append(_figure_line(figures[n - 1]))
        else:
            lines.append(line)
    rest = [_figure_line(f) for i, f in enumerate(figures, 1) if i not in placed]
    return "\n\n".join(["\n".join(lines).strip(), *rest]).strip()


def _figure_line(figure: dict[str, Any]) -> str:
    caption = re.sub(r"[\[\]\n]", "", figure.get("caption") or "") or "插图"
    return f"![{caption}]({figure['sha256']}.{figure['ext']})"


def page_blocks(body: str) -> list[tuple[str, str, str]]:
    """A published body as pages show it: ("p", text, "") or ("figure", caption, name)."""
    return blocks(body)


def figure_names(body: str) -> set[str]:
    return {name for kind, _, name in blocks(body) if kind == "figure"}
