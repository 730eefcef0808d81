"""Emoji, Weibo-style [表情] and internet slang that product reviews never contain.

The Chinese model was trained on shop and hotel reviews of 2010-2018, with no emoji and little
of today's slang, so these terms add a fixed amount to the log-odds that a comment is positive
(+2 is strong praise, -2 a strong complaint), on whichever base model scored the text. Each
distinct term counts once per comment. Terms are matched in the normal form
(features.normalise), so traditional spellings and full-width forms match too. Terms of Latin
letters or digits (yyds, nb, 666) match only as whole words. Words that the reviews already
teach the model (好评, 差评, 退货) and words often negated (回购: 不会回购) are left out.
"""

from __future__ import annotations

# log-odds added when the term occurs (once per distinct term)
# fmt: off
TERMS: dict[str, float] = {
    # emoji: praise, love, approval
    "😍": 2.0, "🥰": 2.0, "😘": 1.5, "❤": 1.5, "❤️": 1.5, "💕": 1.5, "💖": 1.5, "💯": 1.5,
    "👍": 1.8, "👏": 1.5, "🔥": 1.0, "✨": 0.8, "😊": 1.2, "😄": 1.2, "😁": 1.2, "😂": 0.6,
    "🤣": 0.6, "🙌": 1.2, "🤩": 2.0, "😋": 1.2, "🌟": 1.0, "⭐": 0.8, "🎉": 1.0, "💪": 1.0,
    # emoji: anger, disgust, disappointment
    "😡": -2.2, "😠": -2.0, "🤬": -2.5, "👎": -2.0, "🤮": -2.5, "🤢": -2.0, "💩": -2.0,
    "😒": -1.5, "😤": -1.5, "😞": -1.5, "😔": -1.2, "😭": -0.8, "😢": -1.0, "💔": -1.8,
    "🙄": -1.5, "😓": -1.0, "😩": -1.2, "😫": -1.2,
    # Weibo bracket emoticons
    "[哈哈]": 1.0, "[赞]": 1.8, "[good]": 1.8, "[爱你]": 1.8, "[心]": 1.5, "[鼓掌]": 1.5,
    "[笑cry]": 0.6, "[嘻嘻]": 1.0, "[偷笑]": 0.8, "[亲亲]": 1.5, "[太开心]": 1.8, "[色]": 1.5,
    "[怒]": -2.2, "[抓狂]": -1.8, "[衰]": -1.5, "[泪]": -1.0, "[失望]": -2.0, "[吐]": -2.2,
    "[鄙视]": -2.0, "[怒骂]": -2.5, "[生病]": -1.0, "[弱]": -1.5, "[伤心]": -1.5, "[哼]": -1.2,
    # slang of praise
    "yyds": 2.5, "永远的神": 2.5, "绝了": 2.0, "绝绝子": 2.0, "太绝": 1.8, "爱了": 2.0,
    "爱了爱了": 2.2, "种草": 1.5, "无限回购": 2.0, "神仙": 1.2, "宝藏": 1.5,
    "冲冲冲": 1.5, "冲鸭": 1.5, "真香": 1.8, "xswl": 0.8, "awsl": 1.8,
    "nb": 1.2, "牛啊": 1.5, "666": 1.5, "绝美": 1.8, "爆赞": 2.0, "狠狠爱": 2.0,
    "闭眼入": 2.0, "闭眼冲": 2.0, "吹爆": 2.0, "安利": 1.2,
    # slang of complaint
    "踩雷": -2.5, "踩坑": -2.2, "避雷": -2.2, "拔草": -1.5, "智商税": -2.5, "翻车": -2.2,
    "劝退": -2.2, "辣鸡": -2.5, "垃圾": -1.5, "无语": -1.2, "坑人": -2.0,
    "割韭菜": -2.0, "太贵了": -1.5, "不值": -1.5, "烂脸": -2.2, "过敏": -1.2,
    "黑心": -2.0, "骗子": -2.0, "恶心": -1.8,
}

# fmt: on
