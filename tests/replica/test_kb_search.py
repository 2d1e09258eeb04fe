"""Knowledge-base search in Chinese, offline: FTS5 trigrams for words of three characters
or more, substrings for shorter ones, best matches first, the matched text marked."""

from __future__ import annotations

from fieldapp.replica import Replica
from fieldapp.replica.kb import END, MARK, marked_html
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange

ARTICLES = [
    ("kb-1", "灶具熄火保护失灵的处理", "故障处理",
     "熄火保护装置由热电偶和电磁阀组成。点火后松手即熄火，多为热电偶位置偏移或老化，"
     "清洁热电偶头部后仍不吸合则更换电磁阀。", "灶具,熄火保护"),
    ("kb-2", "如何自查漏气", "安全常识",
     "用肥皂水涂抹接头，出现气泡即为漏气。切勿用明火检漏。发现漏气立即关闭表前阀，"
     "开窗通风，到室外拨打抢修电话。", "漏气,自查"),
    ("kb-3", "阶梯气价如何计算", "收费",
     "年用气量在第一阶梯以内按一档价格计费，超出部分按二档、三档价格计费。", "阶梯气价"),
]


def load(replica: Replica, rows=ARTICLES) -> None:
    apply_changes(replica, [RecordChange(
        table="kb_articles", record_id=i, version=1,
        row={"title": t, "category": c, "body": b, "tags": g}) for i, t, c, b, g in rows])


def test_a_long_word_is_found_by_trigrams_with_a_marked_snippet(fresh_replica: Replica):
    load(fresh_replica)
    [hit] = fresh_replica.kb.search("热电偶")
    assert hit["id"] == "kb-1"
    assert f"{MARK}热电偶{END}" in hit["snippet"]
    assert "<b>热电偶</b>" in marked_html(hit["snippet"])


def test_a_two_character_word_still_matches(fresh_replica: Replica):
    load(fresh_replica)
    hits = fresh_replica.kb.search("漏气")
    assert [h["id"] for h in hits] == ["kb-2"]  # the title match first, and only it here
    assert f"{MARK}漏气{END}" in hits[0]["snippet"]
    assert fresh_replica.kb.search("漏气 表前阀")[0]["id"] == "kb-2"  # every word must match
    assert fresh_replica.kb.search("漏气 热电偶") == []


def test_title_matches_rank_first_and_categories_filter(fresh_replica: Replica):
    load(fresh_replica, [*ARTICLES, ("kb-4", "电磁阀更换步骤", "故障处理",
                                     "更换前关闭灶前阀。熄火保护失灵时先查热电偶。", "灶具")])
    assert [h["id"] for h in fresh_replica.kb.search("熄火保护")] == ["kb-1", "kb-4"]
    assert [h["id"] for h in fresh_replica.kb.search("计费", category="收费")] == ["kb-3"]
    assert fresh_replica.kb.search("计费", category="故障处理") == []
    assert fresh_replica.kb.categories() == ["安全常识", "收费", "故障处理"]


def test_the_index_follows_pulled_changes_and_odd_input_is_harmless(fresh_replica: Replica):
    load(fresh_replica)
    load(fresh_replica, [("kb-3", "阶梯气价计算方法", "收费", "按年用气量分三档。", "气价")])
    assert fresh_replica.kb.search("第一阶梯") == []  # the old body is out of the index
    assert [h["id"] for h in fresh_replica.kb.search("三档")] == ["kb-3"]
    for odd in ('"', "%", "_", "a OR b", "NEAR(", "  "):
        assert isinstance(fresh_replica.kb.search(odd), list)
