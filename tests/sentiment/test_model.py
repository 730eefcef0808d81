# ruff: noqa: RUF001  (Chinese comments use full-width punctuation on purpose)
"""The shipped sentiment model: exact answers on clear comments, social-media slang and emoji,
neutral when there is nothing to judge, and a robust, fast, thread-safe API."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pappus.sentiment.model import (
    NEUTRAL_HALF_WIDTH,
    SentimentResult,
    classify,
    classify_many,
    evaluate_report,
)

POSITIVE = [
    "这个面霜太好用了",
    "颜色好看，推荐",
    "物流很快，包装也很好，五星好评",
    "這個真的很好用，會回購",  # traditional characters
    "质量不错，性价比很高",
    "价格有点贵，但效果不错",
]
NEGATIVE = [
    "质量很差，再也不买了",
    "不推荐，用了两天就坏了",
    "太难用了",
    "客服态度恶劣，退款拖了一个月",
    "味道很难闻，用完脸上起痘",
    "一般",
]
SOCIAL_POSITIVE = ["绝了！", "yyds", "😍", "👍👍👍", "[哈哈]", "爱了爱了", "种草了，冲冲冲"]
SOCIAL_NEGATIVE = ["踩雷了", "太贵了吧", "😡", "[怒]", "智商税，避雷", "买了，一般般", "翻车了👎"]
NO_SIGNAL = [
    "",
    "   ",
    "\ufeff",
    "@小红书用户",
    "https://example.com/p/1",
    "。。。",
    "123",
    "#好物分享#",
]
QUESTIONS = ["求链接", "链接在哪", "这个色号在哪买？", "where is this from?", "what brand is it?"]


@pytest.mark.parametrize("text", POSITIVE + SOCIAL_POSITIVE)
def test_clear_praise_is_positive(text: str) -> None:
    result = classify(text)
    assert result.label == "positive", result
    assert result.score >= 0.5 + NEUTRAL_HALF_WIDTH


@pytest.mark.parametrize("text", NEGATIVE + SOCIAL_NEGATIVE)
def test_clear_complaints_are_negative(text: str) -> None:
    result = classify(text)
    assert result.label == "negative", result
    assert result.score <= 0.5 - NEUTRAL_HALF_WIDTH


@pytest.mark.parametrize("text", NO_SIGNAL)
def test_text_without_any_signal_is_exactly_neutral(text: str) -> None:
    assert classify(text) == SentimentResult(label="neutral", score=0.5)


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions_and_requests_are_neutral(text: str) -> None:
    assert classify(text).label == "neutral"


def test_a_question_that_complains_still_complains() -> None:
    assert classify("怎么这么难用？").label == "negative"


def test_scores_grow_with_the_strength_of_praise() -> None:
    scores = [classify(t).score for t in ("差", "一般", "好", "很好", "非常好")]
    assert scores == sorted(scores)
    assert classify("好用😍").score > classify("好用").score > classify("好用😡").score


def test_classify_many_is_classify_for_each_text() -> None:
    texts = POSITIVE + NEGATIVE + SOCIAL_POSITIVE + SOCIAL_NEGATIVE + NO_SIGNAL + QUESTIONS
    texts += ["Love it 😍", "Worst purchase ever.", "iPhone 真的很好用", "ok"]
    assert classify_many(texts) == [classify(t) for t in texts]
    assert classify_many([]) == []
    assert classify_many(tuple(texts[:3])) == [classify(t) for t in texts[:3]]


def test_scores_are_probabilities() -> None:
    for result in classify_many(POSITIVE + NEGATIVE + ["😍" * 50, "踩雷" * 50]):
        assert 0.0 <= result.score <= 1.0
        assert isinstance(result.score, float)


def test_very_long_text_is_quick() -> None:
    text = "".join(f"第{i}天用这个面霜，皮肤很好，Love it! " for i in range(5_000))
    assert len(text) > 100_000
    started = time.perf_counter()
    result = classify(text)
    assert time.perf_counter() - started < 2.0
    assert result.label == "positive"


@pytest.mark.parametrize("value", [None, 3, b"\xe5\xa5\xbd", ["好"]])
def test_non_text_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        classify(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        classify_many(["好", value])  # type: ignore[list-item]


def test_a_bare_string_is_not_taken_for_a_list_of_characters() -> None:
    with pytest.raises(TypeError):
        classify_many("好用")


def test_batches_of_comments_are_fast() -> None:
    comments = ["这个面霜太好用了，推荐！", "踩雷了，一般般", "yyds 绝了😍", "Love this!!"] * 1_000
    classify_many(comments[:10])  # load the model first
    started = time.perf_counter()
    classify_many(comments)
    assert len(comments) / (time.perf_counter() - started) >= 2_000


def test_classifying_from_many_threads_gives_the_same_answers() -> None:
    texts = POSITIVE + NEGATIVE + SOCIAL_POSITIVE
    expected = classify_many(texts)
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(classify_many, [texts] * 16))
    assert all(f == expected for f in found)


def test_the_model_card_reports_figures_of_unseen_texts() -> None:
    card = evaluate_report()
    assert card["in_domain"]["accuracy"] >= 0.9
    assert card["out_of_domain_hotels"]["accuracy"] >= 0.82
    assert card["out_of_domain_hotels"]["n"] == card["training_data"]["by_domain"]["酒店"]
    assert card["split"]["train"] + card["split"]["test"] == card["training_data"]["texts"]
    assert card["training_data"]["conflicting_texts_dropped"] > 0
    loco = card["leave_one_category_out"]
    assert len(loco["by_domain"]) == 10
    assert loco["min_accuracy"] <= loco["mean_accuracy"]
