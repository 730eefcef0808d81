# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The checker against the shipped packs: Article 9 terms and their variants, ordinary words
that only contain a banned character, FTC disclosures, spans, and which rules apply."""

from __future__ import annotations

from datetime import date

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pappus.compliance.checker import Post, RuleEngine
from pappus.compliance.packs import RulePack, shipped_packs

DAY = date(2026, 11, 30)
ENGINE = RuleEngine(shipped_packs())
S2T = opencc.OpenCC("s2t")

# The terms Article 9(3) names, and those enforcement practice adds, each in a sentence.
ARTICLE_9_TERMS = [
    "国家级", "最高级", "最佳", "世界级", "最优", "最顶级", "最先进", "最权威", "最便宜", "最低价",
    "最受欢迎", "最畅销", "全网第一", "销量第一", "排名第一", "第一品牌", "世界第一", "销量冠军",
    "顶级", "行业唯一", "独一无二", "史无前例", "万能", "史上最", "全网最", "首选", "首家", "王牌",
    "绝无仅有", "至尊", "极品",
]  # fmt: skip
STATE_ENDORSEMENTS = ["政府推荐", "国家机关推荐", "国宴专用", "特供", "人民大会堂指定", "国家免检"]


def check(text: str, **kwargs: object) -> list[tuple[str, str, str]]:
    post = Post(text=text, **kwargs)  # type: ignore[arg-type]
    return [(f.rule_id, f.kind, f.match) for f in ENGINE.check(post, DAY).findings]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize("term", ARTICLE_9_TERMS)
def test_every_article_9_term_is_a_blocking_finding_in_simplified_and_traditional(
    term: str,
) -> None:
    for variant in (term, S2T.convert(term)):
        text = f"这款面霜是{variant}的选择，真的很好用。"
        result = ENGINE.check(Post(text, platform="xiaohongshu"), DAY)
        spans = [(f.match, f.severity, f.start) for f in result.findings]
        assert (variant, "block", 5) in spans, (variant, spans)


@pytest.mark.parametrize("term", STATE_ENDORSEMENTS)
def test_state_endorsements_are_blocked(term: str) -> None:
    found = check(f"这款茶是{S2T.convert(term)}的", platform="xiaohongshu")
    assert ("cn-ad-9-2-state-endorsement", "banned_term", S2T.convert(term)) in found


def test_full_width_and_upper_case_variants_are_caught_with_original_spans() -> None:
    text = "口碑ＮＯ．１，ｔｏｐ１的面霜"
    result = ENGINE.check(Post(text, platform="xiaohongshu"), DAY)
    matches = [(f.match, text[f.start : f.end]) for f in result.findings]
    assert ("ＮＯ．１", "ＮＯ．１") in matches
    assert ("ｔｏｐ１", "ｔｏｐ１") in matches


def test_spans_survive_characters_that_fold_to_several() -> None:
    # "ﬁ" (one character) folds to "fi" (two): the span after it must still be right.
    text = "ﬁne ﬁnish, 國家級 quality"
    result = ENGINE.check(Post(text, platform="xiaohongshu"), DAY)
    at = text.index("國家級")
    assert at == 11
    assert [(f.match, f.start, f.end) for f in result.findings] == [("國家級", at, at + 3)]


@pytest.mark.parametrize(
    "text",
    [
        "最近天气很干，最后我还是选了这款",
        "第一次用就喜欢上了，第一天就感觉到了",
        "收到后第一时间就拆开了，第一眼就很喜欢",
        "最好提前预约，周末人很多",
        "唯一的缺点是包装有点大",
        "最高气温只有五度，最低气温零下",
        "首先说一下质地，然后是香味",
    ],
)
def test_ordinary_words_that_contain_a_banned_term_are_not_findings(text: str) -> None:
    assert check(text, platform="xiaohongshu", category="skincare") == []


def test_the_longest_term_is_reported_once() -> None:
    assert check("全网第一的口碑", platform="xiaohongshu") == [
        ("cn-ad-9-3-superlative", "banned_term", "全网第一")
    ]


def test_medical_claims_apply_to_cosmetics_and_food_only() -> None:
    text = "用了两周，痘痘被治愈了"
    assert ("cn-cosmetics-medical-claim", "banned_term", "治愈") in check(
        text, platform="xiaohongshu", category="skincare"
    )
    assert check(text, platform="xiaohongshu", category="travel") == []
    # Category unknown: the checker cannot rule them out, so they apply.
    assert check(text, platform="xiaohongshu") != []


def test_efficacy_guarantees_and_returns_are_patterns() -> None:
    found = check("保证见效，治愈率高达95%，无效退款", platform="xiaohongshu", category="skincare")
    assert [m for _, _, m in found] == ["保证见效", "治愈率高达95%", "无效退款"]
    found = check("这个理财稳赚不赔，年化收益稳定8%", platform="xiaohongshu", category="finance")
    assert {r for r, _, _ in found} == {"cn-ad-25-returns"}


def test_off_platform_contact_on_xiaohongshu() -> None:
    found = check("喜欢的加微信问我，电话13812345678", platform="xiaohongshu")
    assert [m for _, _, m in found] == ["加微信", "13812345678"]
    # The platform's community rules are Xiaohongshu's, not Douyin's.
    assert check("电话13812345678", platform="douyin") == []


@pytest.mark.parametrize("tag", ["#sp", "#spon", "#collab", "#partner", "#ambassador"])
def test_ftc_ambiguous_tags_are_flagged(tag: str) -> None:
    found = check(f"#ad Loving this serum {tag}", platform="instagram")
    assert found == [("ftc-ambiguous-disclosure", "disclosure_ambiguous", tag)]


def test_ftc_thanks_brand_is_ambiguous_with_or_without_the_handle() -> None:
    assert check("Thanks @glowco for this!", platform="instagram", sponsored=False) == [
        ("ftc-ambiguous-disclosure", "disclosure_ambiguous", "Thanks @glowco")
    ]
    found = check(
        "thank you so much GlowCo!", platform="instagram", sponsored=False, brand="GlowCo"
    )
    assert found == [
        ("ftc-ambiguous-disclosure", "disclosure_ambiguous", "thank you so much GlowCo")
    ]


def test_english_terms_match_whole_words_only() -> None:
    # #adidas is not #ad, #spring is not #sp, "secure" is not "cure".
    found = check("New #adidas kicks #spring, secure fit", platform="instagram")
    assert found == [("ftc-255-5-disclosure", "disclosure_missing", "")]
    assert check("Secure fit #ad", platform="instagram") == []


def test_a_disclosure_after_the_more_cut_off_is_a_finding() -> None:
    late = "I tried it for two weeks. " * 6 + "#ad"
    result = ENGINE.check(Post(late, platform="instagram"), DAY)
    assert [(f.kind, f.match, f.start) for f in result.findings] == [
        ("disclosure_placement", "#ad", len(late) - 3)
    ]
    # In the title, or in the first lines, it is seen.
    assert check(late, title="Ad: my routine", platform="instagram") == []
    assert check("#ad " + late, platform="instagram") == []


def test_hashtags_after_a_short_text_count_as_a_disclosure() -> None:
    assert check("Great serum", hashtags=("ad", "skincare"), platform="instagram") == []
    long_text = "Great serum. " * 12
    found = ENGINE.check(Post(long_text, hashtags=("ad",), platform="instagram"), DAY).findings
    assert [(f.kind, f.field, f.start, f.end) for f in found] == [
        ("disclosure_placement", "hashtags", 0, 3)
    ]


def test_unsponsored_posts_need_no_disclosure_and_platform_labels_are_left_to_publication() -> None:
    assert check("just my own haul", platform="instagram", sponsored=False) == []
    result = ENGINE.check(Post("我的护肤分享", platform="xiaohongshu"), DAY)
    assert result.findings == ()
    assert set(result.label_required) == {
        "cn-internet-advertising@1:cn-iam-9-ad-label",
        "xiaohongshu-community@1:xhs-brand-partnership-label",
    }
    # Weibo has no label Pappus verifies: the text itself must say 广告.
    assert check("我的护肤分享", platform="weibo") == [
        ("cn-iam-9-ad-label", "disclosure_missing", "")
    ]
    assert check("广告｜我的护肤分享", platform="weibo") == []


def test_jurisdiction_comes_from_the_caller_then_the_platform_then_all_packs() -> None:
    assert ENGINE.check(Post("x", platform="instagram"), DAY).jurisdictions == ("US",)
    assert ENGINE.check(Post("x", platform="instagram", jurisdiction="CN"), DAY).jurisdictions == (
        "CN",
    )
    everything = ENGINE.check(Post("x"), DAY)
    assert everything.jurisdictions == ("CN", "US")
    assert len(everything.packs) == len(shipped_packs())


def test_packs_not_yet_in_force_do_not_apply() -> None:
    assert (
        "cn-internet-advertising@1"
        not in ENGINE.check(Post("x", platform="weibo"), date(2023, 1, 1)).packs
    )


def test_a_new_version_of_a_pack_replaces_its_rules() -> None:
    pack = shipped_packs()[0].model_dump()
    pack["version"] = 2
    pack["rules"] = [
        {**pack["rules"][0], "terms": ["超级好用"], "exceptions": []},
    ]
    engine = RuleEngine([RulePack.model_validate(pack)])
    result = engine.check(Post("国家级的超级好用", platform="xiaohongshu"), DAY)
    assert [(f.pack, f.match) for f in result.findings] == [("cn-advertising-law@2", "超级好用")]


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(
            list("最佳第一次國家級ＮＯ．１ﬁß #adsp@thanks広告品牌合作治愈 \n")
        ),
        max_size=120,
    ),
    platform=st.sampled_from([None, "xiaohongshu", "instagram", "weibo"]),
)
def test_every_span_points_at_its_match(text: str, platform: str | None) -> None:
    post = Post(text, title=text[:10], hashtags=("sp", "ad"), platform=platform)
    for finding in ENGINE.check(post, DAY).findings:
        source = {"title": post.title, "text": post.text, "hashtags": post.hashtag_line}
        assert 0 <= finding.start <= finding.end <= len(source[finding.field])
        assert source[finding.field][finding.start : finding.end] == finding.match


def test_sponsored_is_a_disclosure_and_not_sponsored_is_not() -> None:
    assert check("Sponsored: my new serum", platform="instagram") == []
    assert check("Not sponsored, I just love it", platform="instagram") == [
        ("ftc-255-5-disclosure", "disclosure_missing", "")
    ]


def test_thanks_to_a_handle_in_any_script_is_ambiguous() -> None:
    assert check("thanks so much to @润雪 for this", platform="instagram", sponsored=False) == [
        ("ftc-ambiguous-disclosure", "disclosure_ambiguous", "thanks so much to @润雪")
    ]


def test_characters_that_fold_to_several_keep_every_later_span_exact() -> None:
    text = "真的很好……℃™ 这是最佳选择"
    result = ENGINE.check(Post(text, platform="xiaohongshu"), DAY)
    assert [(f.match, f.start) for f in result.findings] == [("最佳", text.index("最佳"))]


def test_repeated_terms_are_each_reported_once() -> None:
    text = "全网第一，" * 50 + "最好用的最好用的"
    found = ENGINE.check(Post(text, platform="xiaohongshu"), DAY).findings
    assert [f.match for f in found] == ["全网第一"] * 50 + ["最好用的", "最好用的"]
