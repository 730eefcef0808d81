# ruff: noqa: RUF001
# (Chinese text uses full-width punctuation on purpose; the phrase tables read best one a line.)
"""Text for the sandbox world: names, bios, posts and comments in Chinese and English,
assembled from small hand-written parts so that every account reads differently."""

from __future__ import annotations

import random

LATIN_SYLLABLES = (
    "ava", "ben", "chen", "dai", "eli", "fang", "gao", "hana", "ivy", "jun", "kai", "lin",
    "mei", "nora", "ou", "pei", "qin", "rui", "sam", "tao", "uma", "vic", "wen", "xia",
    "yu", "zoe", "lily", "max", "leo", "mia", "noah", "ella", "luca", "ruby", "finn", "jade",
)  # fmt: skip
ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
ZH_GIVEN = "小晓雨欣佳子梓一诗思嘉可悦琪然涵若安宁萌乐桃橙"
ZH_NICK_ENDINGS = (
    "酱",
    "同学",
    "的日常",
    "不吃辣",
    "爱分享",
    "Daily",
    "在路上",
    "小厨房",
    "研究所",
)
EN_NICK_ENDINGS = ("daily", "eats", "studio", "journal", "lab", "travels", "life", "notes")

BRANDS = (
    "Lumière", "Aurora Skin", "Pinecrest", "花西子实验室", "云朵家居", "Nordic Oats", "TechNest",
    "跑跑运动", "Maple & Co", "Petit Chef", "青柠咖啡", "Velvet Hue",
)  # fmt: skip

TOPICS = {
    "beauty": ("口红试色", "底妆", "眼影盘", "lipstick swatches", "foundation", "eyeshadow"),
    "skincare": ("精华", "防晒", "敏感肌", "serum", "sunscreen", "sensitive skin"),
    "fashion": (
        "通勤穿搭",
        "小个子穿搭",
        "秋冬外套",
        "office outfits",
        "capsule wardrobe",
        "coats",
    ),
    "food": ("家常菜", "探店", "减脂餐", "home cooking", "cafe hopping", "meal prep"),
    "travel": ("周末游", "小众景点", "酒店测评", "weekend trips", "hidden gems", "hotel review"),
    "fitness": ("居家健身", "跑步", "普拉提", "home workout", "running", "pilates"),
    "parenting": ("辅食", "育儿好物", "亲子游", "baby food", "parenting gear", "family trips"),
    "home": ("收纳", "小户型改造", "家居好物", "storage", "small flat makeover", "home finds"),
    "tech": ("手机测评", "桌面布置", "数码好物", "phone review", "desk setup", "gadgets"),
    "gaming": ("新游试玩", "攻略", "外设", "first look", "walkthrough", "gaming gear"),
    "pets": ("猫咪日常", "狗狗训练", "宠物用品", "cat life", "dog training", "pet supplies"),
    "education": ("考研", "英语学习", "读书笔记", "exam prep", "learning English", "book notes"),
    "finance": ("理财入门", "记账", "基金", "budgeting", "saving money", "index funds"),
    "automotive": ("新车试驾", "用车成本", "自驾", "test drive", "running costs", "road trip"),
    "health": ("睡眠", "体检", "养生", "sleep", "check-ups", "wellbeing"),
    "lifestyle": ("vlog", "独居生活", "好物分享", "vlog", "living alone", "favourites"),
}

ZH_OPENINGS = ("今天来分享", "终于找到了", "亲测有效的", "被问了无数次的", "真心推荐", "踩雷预警")
ZH_BODIES = (
    "用了两周，感受是{topic}真的要看个人情况，优点和缺点我都写在下面了。",
    "这次认真对比了几款，{topic}方面差别挺大，姐妹们按需入手。",
    "记录一下最近的{topic}心得，不是广告，纯属个人体验。",
    "很多人私信问我{topic}，一次说清楚，建议收藏慢慢看。",
    "周末整理了{topic}的清单，最后一个是我的私藏。",
)
EN_OPENINGS = (
    "Sharing my",
    "Finally found the best",
    "Honest thoughts on",
    "My go-to",
    "A week of",
)
EN_BODIES = (
    "I tried a few options for {topic} over the last two weeks; pros and cons below.",
    "Lots of you asked about {topic}, so here is everything in one place. Save it for later.",
    "Not every tip works for everyone, but this is what made {topic} easier for me.",
    "A quick roundup of {topic} that I keep coming back to, with one surprise at the end.",
)
ZH_DISCLOSURE = "#品牌合作"
EN_DISCLOSURES = ("#ad", "#sponsored", "Paid partnership with {brand}.")

ZH_COMMENTS = {
    "positive": (
        "太实用了，已收藏！",
        "求链接～",
        "跟着买了，真的好用",
        "博主讲得好清楚",
        "爱了爱了",
    ),
    "neutral": ("请问适合油皮吗？", "多少钱呀", "第三个是哪家的", "坐等更新", "蹲一个后续"),
    "negative": ("用了过敏了…", "感觉一般，没说的那么好", "价格有点劝退", "广告有点多"),
}
EN_COMMENTS = {
    "positive": ("This is so helpful, saved!", "Love this!", "Bought it, no regrets",
                 "Great breakdown, thank you"),
    "neutral": ("Does it work for oily skin?", "How much was it?", "Where is the third one from?",
                "Waiting for part two"),
    "negative": ("Didn't work for me at all", "Too expensive for what it is",
                 "Feels like an ad honestly"),
}  # fmt: skip
# What bots write: generic praise, emoji only, or something unrelated.
BOT_COMMENTS = (
    "Nice post!", "Great content", "Awesome!!", "Love it", "好看", "不错不错", "👍👍👍", "❤️❤️",
    "🔥🔥🔥", "😍😍", "Check my profile for free followers", "关注我互粉", "Follow back?",
)  # fmt: skip


def name(rng: random.Random, language: str, index: int) -> tuple[str, str]:
    """A unique handle (the index makes it unique) and a display name."""
    if language == "zh":
        given = rng.choice(ZH_GIVEN) + rng.choice(ZH_GIVEN)
        display = rng.choice(ZH_SURNAMES) + given + rng.choice(ZH_NICK_ENDINGS)
    else:
        first = rng.choice(LATIN_SYLLABLES).title()
        display = f"{first} {rng.choice(EN_NICK_ENDINGS).title()}"
    stem = rng.choice(LATIN_SYLLABLES) + rng.choice(LATIN_SYLLABLES)
    return f"{stem}_{index:x}", display


def bio(rng: random.Random, language: str, category: str) -> str:
    topics = TOPICS[category]
    if language == "zh":
        picks = rng.sample(topics[:3], 2)
        return f"分享{picks[0]}和{picks[1]}｜真实测评｜合作请私信"
    picks = rng.sample(topics[3:], 2)
    return f"{picks[0].capitalize()} and {picks[1]} | honest reviews | DM for collabs"


def post(
    rng: random.Random, language: str, category: str, brand: str | None, labelled: bool
) -> tuple[str, str, tuple[str, ...]]:
    """A title, a body and hashtags; a sponsored post names its brand, and a labelled one
    carries a disclosure at the start of the text."""
    topics = TOPICS[category]
    tags: tuple[str, ...]
    if language == "zh":
        topic = rng.choice(topics[:3])
        title = f"{rng.choice(ZH_OPENINGS)}{topic}"
        body = rng.choice(ZH_BODIES).format(topic=topic)
        if brand:
            body += f"这次和{brand}一起，体验了他们的新品。"
        tags = (f"#{topic}", f"#{category}", "#好物分享")
        if labelled:
            body = f"{ZH_DISCLOSURE} {body}"
    else:
        topic = rng.choice(topics[3:])
        title = f"{rng.choice(EN_OPENINGS)} {topic}"
        body = rng.choice(EN_BODIES).format(topic=topic)
        if brand:
            body += f" Made with {brand}, who sent me their new range."
        tags = (f"#{topic.replace(' ', '')}", f"#{category}")
        if labelled and brand:
            body = f"{rng.choice(EN_DISCLOSURES).format(brand=brand)} {body}"
    return title, body, tags


def comment(rng: random.Random, language: str, category: str, bot: bool) -> str:
    if bot:
        return rng.choice(BOT_COMMENTS)
    pool = ZH_COMMENTS if language == "zh" else EN_COMMENTS
    mood = rng.choices(("positive", "neutral", "negative"), weights=(0.6, 0.3, 0.1))[0]
    return rng.choice(pool[mood])
