"""English comments go to VADER: a hand-written set of influencer-style comments (written for
this test, not taken from anywhere) as a sanity check. Its figure says little about real
accuracy: 40 comments, written by the same person who chose the method."""

from __future__ import annotations

import pytest

from pappus.sentiment.model import classify, classify_many, english_available

pytestmark = pytest.mark.skipif(not english_available(), reason="vaderSentiment is not installed")

COMMENTS: list[tuple[str, str]] = [
    ("Obsessed with this serum, my skin has never looked better!", "positive"),
    ("This is amazing, love it!", "positive"),
    ("Just ordered two, thanks for the recommendation 😍", "positive"),
    ("Absolutely gorgeous colour on you", "positive"),
    ("Best purchase I made this year", "positive"),
    ("You look stunning in this dress!!", "positive"),
    ("Great review, super helpful", "positive"),
    ("I love how honest your reviews are", "positive"),
    ("This lipstick is perfect for everyday", "positive"),
    ("So happy I bought it, works great", "positive"),
    ("The packaging is beautiful and it smells wonderful", "positive"),
    ("Wow, the results are incredible 👍", "positive"),
    ("Highly recommend, worth every penny", "positive"),
    ("yyds, need this in every colour", "positive"),
    ("Nice! Looks really comfortable", "positive"),
    ("Broke after two days. Total waste of money.", "negative"),
    ("Worst purchase ever, don't buy it", "negative"),
    ("This gave me a terrible rash 😡", "negative"),
    ("Honestly disappointed, it looks nothing like the photos", "negative"),
    ("Overpriced and the quality is awful", "negative"),
    ("Stop promoting scams", "negative"),
    ("The smell is horrible, I returned it", "negative"),
    ("Customer service was rude and useless", "negative"),
    ("Fake reviews everywhere, so annoying", "negative"),
    ("It broke my skin out, never again", "negative"),
    ("Shipping took forever and the box was damaged", "negative"),
    ("Ugly colour, not worth it 👎", "negative"),
    ("I hate the new formula", "negative"),
    ("Sad to say this was a huge letdown", "negative"),
    ("Cheap material, fell apart after one wash", "negative"),
    ("Where is this from?", "neutral"),
    ("What shade are you wearing?", "neutral"),
    ("link please", "neutral"),
    ("@lily_chen look at this", "neutral"),
    ("How much was it?", "neutral"),
    ("Which size did you get?", "neutral"),
    ("Is it available in Europe?", "neutral"),
    ("First", "neutral"),
    ("Posted on Tuesday", "neutral"),
    ("https://example.com/p/123", "neutral"),
]


def test_the_hand_written_set_is_mostly_right() -> None:
    results = classify_many([text for text, _ in COMMENTS])
    right = sum(r.label == label for r, (_, label) in zip(results, COMMENTS, strict=True))
    assert len(COMMENTS) == 40
    assert right / len(COMMENTS) >= 0.85, [
        (text, label, r)
        for r, (text, label) in zip(results, COMMENTS, strict=True)
        if r.label != label
    ]


@pytest.mark.parametrize(
    "text,label",
    [
        ("Love it", "positive"),
        ("I hate it", "negative"),
        ("Where is this from?", "neutral"),
    ],
)
def test_clear_english_comments(text: str, label: str) -> None:
    assert classify(text).label == label


def test_mixed_chinese_and_english() -> None:
    assert classify("iPhone 真的很好用").label == "positive"
    assert classify("质量太差了 so disappointed").label == "negative"
    assert classify("Love it 😍 太好看了").label == "positive"
    mixed = classify("包装很好 but the cream is terrible, waste of money").score
    assert mixed < classify("包装很好").score
