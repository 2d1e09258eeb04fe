"""Browsing by category, articles with their bundled figures, and a repair form's fault
turned into a knowledge-base search."""

from __future__ import annotations

from pathlib import Path

from fieldapp.demo.kb import article_rows
from fieldapp.forms.form_files import FORMS_DIR, load_file
from fieldapp.kb.article import IMAGE_DIR, article_html, blocks
from fieldapp.replica import Replica
from fieldapp.replica.filling import kb_query
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange


def load_demo(replica: Replica) -> None:
    apply_changes(replica, [RecordChange(
        table="kb_articles", record_id=f"kb-{i}", version=1,
        row={"title": t, "category": c, "body": b, "tags": " ".join(g)})
        for i, (t, c, g, b) in enumerate(article_rows())])


def test_a_category_lists_its_articles_by_title(fresh_replica: Replica) -> None:
    load_demo(fresh_replica)
    assert "故障代码" in fresh_replica.kb.categories()
    listed = fresh_replica.kb.in_category("故障代码")
    assert [a["title"] for a in listed] == sorted(a["title"] for a in listed)
    assert {a["category"] for a in listed} == {"故障代码"} and len(listed) == 2
    assert fresh_replica.kb.in_category("没有的类别") == []


def test_figures_are_shown_from_the_bundled_folder(tmp_path: Path) -> None:
    (tmp_path / "clamp.png").write_bytes(b"\x89PNG fake")
    article = {"title": "软管<更换>", "body": "第一段\n\n![卡箍位置](clamp.png)\n"
                                                 "![缺的图](gone.png)\n![越界](../../x.png)"}
    assert [k for k, _, _ in blocks(article["body"])] == ["p", "figure", "figure", "p"]
    shown = article_html(article, tmp_path, missing="(missing)")
    assert "<h2>软管&lt;更换&gt;</h2>" in shown
    assert f'<img src="{(tmp_path / "clamp.png").as_uri()}"' in shown and "<i>卡箍位置</i>" in shown
    assert "缺的图 (missing)" in shown and "gone.png" not in shown
    assert "<p>![越界](../../x.png)</p>" in shown  # not a figure: never read outside


def test_every_figure_of_the_demo_articles_is_bundled() -> None:
    figures = [name for *_, body in article_rows() for kind, _, name in blocks(body)
               if kind == "figure"]
    assert len(figures) >= 2
    assert all((IMAGE_DIR / name).is_file() for name in figures), figures


def test_a_fault_answer_becomes_a_search(fresh_replica: Replica) -> None:
    load_demo(fresh_replica)
    definition = load_file(FORMS_DIR / "repair_report.v1.json")
    category = definition.by_key["fault_category"]
    description = definition.by_key["fault_description"]
    choices = [("valve_fault", "阀门故障"), ("other", "其他")]
    assert kb_query(category, "valve_fault", choices) == "阀门故障"
    assert kb_query(category, "other", choices) is None  # nothing to look up
    assert kb_query(description, "表具显示e02，阀门不开", []) == "E02"
    assert kb_query(description, "用户说没气", []) is None
    assert kb_query(definition.by_key["cause_detail"], "E02", []) is None  # not a fault field
    for query, title in (("阀门故障", "IC卡表故障代码 E01–E10"),
                         ("E02", "IC卡表故障代码 E01–E10")):
        assert title in [h["title"] for h in fresh_replica.kb.search(query)], query


def test_a_result_shows_a_figure_by_its_caption(fresh_replica: Replica) -> None:
    load_demo(fresh_replica)
    [hit] = fresh_replica.kb.search("E02")
    assert "](" not in hit["snippet"] and "![" not in hit["snippet"]
    assert ".png" not in hit["snippet"]
