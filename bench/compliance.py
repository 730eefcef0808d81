# ruff: noqa: RUF001  (the drafts are Chinese text with full-width punctuation on purpose)
"""Compliance benchmark: how long checking a 2,000-character draft takes, and how accurate it is.

Issue "Compliance" asks that checking a 2,000-character draft against all rule packs take
under 5 ms at p95. This script generates a fixed, seeded set of drafts (default 1,000) whose
text is exactly 2,000 characters: Chinese Xiaohongshu-style, English Instagram-style and mixed,
built from the sentence pools below; some clean, some with violations planted at random places
(superlatives such as 最佳, 国家级 and 全网第一, their traditional and full-width variants such
as 國家級 and NO.1 typed full-width, medical and financial claims, off-platform contact, #sp
tags, a disclosure that is missing or comes too late). It then times, in this process on one
thread with time.perf_counter_ns, `RuleEngine(packs).check(Post(...), day)` on every draft in
these cells:

- all packs: no platform, jurisdiction or category, so every pack applies (CN and US);
- every rule: only when the all-packs cell leaves rules out (a checker that skips
  platform-limited packs for a post with no platform): an engine with those limits lifted;
- xiaohongshu, skincare: the CN packs;
- instagram: the US pack;

and, on the same drafts in the same loop, two floors: `text.normalise` of the text alone, and
the bare Aho-Corasick pass (`engine.automaton.iter` over the already normalised text, consumed).
It reports p50/p95/p99/max, checks per second, findings per draft and how many planted
violations were found, and judges the target.

When the corpora in tests/compliance/corpus/ are there, it also measures accuracy with
`service.check_offline` (as `pappus compliance check` does): the false-positive rate on
compliant_posts.jsonl, and the recall on violations.jsonl. Missing corpora are reported and
skipped.

Prints a table, writes JSON and a PNG chart beside it (matplotlib, optional). The work is fixed
by the options and the script stops by itself; it contacts nothing. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import sys
import time
import unicodedata
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from compliance_chart import draw_chart
from harness import (
    BENCH_DIR,
    CpuMeter,
    Progress,
    machine_info,
    package_versions,
    percentile,
    render_table,
    say,
)

from pappus.compliance.checker import CheckResult, Post, RuleEngine
from pappus.compliance.packs import RulePack, shipped_packs
from pappus.compliance.service import check_offline
from pappus.compliance.text import normalise

DEFAULT_OUT = BENCH_DIR / "results" / "compliance.json"
DEFAULT_CORPUS = BENCH_DIR.parent / "tests" / "compliance" / "corpus"
TODAY = date(2026, 11, 30)
TARGET_P95_MS = 5.0
TARGET_CHARS = 2000
MAX_DRAFTS = 100_000
MAX_REPEAT = 50
OTHER_CPU_WARNING = 25.0  # % of a core used by other processes during the timed loop
EXAMPLES_PRINTED = 10
PACKAGES = ("pappus", "pyahocorasick", "OpenCC", "pydantic", "PyYAML", "matplotlib")
EXAMPLE = """\
examples:
  python bench/compliance.py                       # 1,000 drafts x 5 rounds: about 20 s
  python bench/compliance.py --drafts 200 --repeat 1
  python bench/compliance.py --chars 10000 --out bench/results/compliance-10k.json
"""


# -- the drafts -----------------------------------------------------------------------------
#
# Clean sentences must give no finding under any pack (checked at the start of every run:
# `check_pools`); some are traps that look like a rule but are ordinary language (第一次,
# 最好不要, 唯一的缺点, #adidas, "secure", "thanks for reading").

CN_CLEAN = (
    "姐妹们，今天来聊聊我最近反复回购的这瓶面霜。",
    "先说结论：适合混油皮，干皮冬天可能要叠加一层精华。",
    "质地是轻盈的乳霜，推开很快就化成水，吸收也快。",
    "上脸没有黏腻感，第二天早上起来脸还是润润的。",
    "我是第一次用这个牌子，抱着试试看的心态下单的。",
    "包装是按压式的，出量很好控制，出差带着也方便。",
    "味道是淡淡的植物香，不喜欢香味的朋友也能接受。",
    "坚持用了一个多月，换季的时候脸上没怎么起皮。",
    "唯一的缺点是瓶子有点重，放在化妆包里占地方。",
    "价格在同类产品里算中等，活动的时候入手更划算。",
    "搭配同系列的爽肤水一起用，保湿感会更持久。",
    "上妆前薄涂一层，粉底服帖了很多，中午也不容易卡粉。",
    "夜里用量可以多一点，当睡眠面膜厚敷也没问题。",
    "敏感肌建议先在耳后试用两三天，没有不适再上脸。",
    "第一眼看到这个配色就心动了，奶白色的瓶身很好看。",
    "成分表很短，主打神经酰胺和角鲨烷，都是比较温和的成分。",
    "我的肤质是T区油两颊干，夏天用它刚刚好。",
    "北方的冬天特别干，屋里开着暖气，这瓶真的帮了大忙。",
    "周末去了一趟杭州，西湖边的银杏叶已经黄了🍂",
    "早上在灵隐寺附近吃了一碗片儿川，汤头很鲜。",
    "下午找了一家安静的咖啡馆，点了一杯桂花拿铁☕️",
    "拍照的话建议早上八点前去，人少光线也柔和。",
    "晚饭在河坊街随便吃了点，小笼包皮薄汁多。",
    "这家店的招牌是酸菜鱼，鱼片很嫩，酸度刚好。",
    "分量挺足的，两个人点一份鱼再加两个素菜就够了。",
    "周末人比较多，建议提前在小程序上排号。",
    "最近在练习早睡，十一点前放下手机，气色好了不少。",
    "每天喝够两升水，皮肤状态真的会稳定一些。",
    "换季的时候我会把洁面换成氨基酸的，洗完不紧绷。",
    "防晒一定要涂够量，一元硬币大小是基本。",
    "这支防晒是ＳＰＦ５０＋，户外活动两三个小时补涂一次。",
    "顺便说一下物流，下单第二天就到了，包装很严实。",
    "客服回复也挺快，问了几个成分问题都耐心解答了。",
    "喜欢清爽质地的可以冲，追求厚重滋润的可能会觉得不够。",
    "这次买的是小样套装，适合想先试试的姐妹。",
    "我一般是洗完脸先拍水，再用精华，最后用面霜锁住。",
    "下雨天窝在家里追剧，顺手敷了一片补水面膜。",
    "整体来说是一款很稳的日常面霜，不会出错。",
    "有问题可以在评论区问我，看到都会回复～",
    "这家的口红质地偏雾面，但是不拔干，薄涂很自然。",
    "色号是豆沙粉，黄皮涂上也很显白，日常通勤刚好。",
    "持妆大概四个小时，吃完饭需要补一下。",
    "新出的这款香水前调是柑橘，后调有一点木质香。",
    "留香时间在五六个小时左右，办公室用不会太冲。",
    "今天的早餐是燕麦酸奶碗，加了蓝莓和坚果🥣",
    "这个牌子的燕麦奶口感顺滑，拿来做拿铁很合适。",
    "配料表比较干净，没有额外添加蔗糖。",
    "健身完来一杯，饱腹感挺强的。",
    "這款乳液質地很清爽，夏天用剛好，不會悶。",
    "包裝設計很有質感，送朋友也很體面。",
    "第一天用就觉得皮肤喝饱了水，摸起来软软的。",
    "每次出门前都会喷一点，心情也跟着变好了。",
    "这个价位能有这样的使用感，我觉得挺值得。",
    "之前踩过不少雷，所以这次认真对比了好几款才下单。",
    "瓶口设计得很贴心，不会漏液，放行李箱里也放心。",
    "下个月准备去云南，到时候再给大家分享旅行穿搭。",
    "昨天试了新的发型，理发师说要定期修剪才好打理。",
    "最近天气忽冷忽热，大家记得多穿一件外套。",
    "整理了一下梳妆台，发现空瓶里有一半都是这个系列的。",
    "化妆前最好先做好保湿，底妆会更服帖。",
    "敷面膜的时间最好不要超过二十分钟。",
    "第一步是清洁，第二步是补水，第三步才是防晒。",
    "说实话刚开始没抱太大期待，用完这一瓶改观了。",
    "冬天手也容易干，我顺手把它当护手霜用。",
)

EN_CLEAN = (
    "Okay, let's talk about the moisturizer I keep reaching for every single morning.",
    "The texture is a light gel-cream that sinks in fast and never feels sticky.",
    "I have combination skin, oily T-zone and dry cheeks, and this one keeps both happy.",
    "I've been using it for about five weeks now, morning and night.",
    "Packaging is a pump bottle, which I love for keeping things clean.",
    "The scent is super subtle, kind of like cucumber and green tea.",
    "It layers nicely under sunscreen and my foundation doesn't pill at all.",
    "Price-wise it sits in the middle, and there's usually a discount around the holidays.",
    "My only complaint is that the bottle is a bit heavy for travel.",
    "If you have very dry skin you might want something richer in winter.",
    "Always patch test first, especially if your skin is reactive.",
    "Sunday reset: clean sheets, a face mask and a long walk in the park 🌿",
    "Spent the afternoon at a tiny bookshop downtown and lost track of time.",
    "Grabbed an oat milk latte on the way home, cozy season is officially here ☕️",
    "This week's grocery haul is mostly veggies, eggs and way too much fruit.",
    "Meal prep tip: roast everything on one tray and season it differently.",
    "Tried a new running route by the river this morning, so scenic.",
    "Hydration check: I'm aiming for two liters a day and it shows on my skin.",
    "My routine is simple: cleanse, serum, moisturizer, SPF.",
    "Reapply sunscreen every two hours if you're outside, even when it's cloudy.",
    "This lipstick is a soft matte that doesn't dry out my lips.",
    "The shade is a dusty rose that works for everyday and for the office.",
    "It lasts about four hours, then I touch it up after lunch.",
    "The new fragrance opens with citrus and dries down to something woody.",
    "Delivery was quick and everything arrived well packed.",
    "Customer service answered my ingredient questions within a day.",
    "I compared a bunch of options before picking this one, so here's my honest take.",
    "Swipe to see the texture up close in natural light.",
    "Linking my full routine in my stories later today.",
    "Drop your questions in the comments and I'll answer as many as I can!",
    "Weekend trip to the coast: windy, salty, and exactly what I needed 🌊",
    "Found the cutest little bakery with cardamom buns that sell out by ten.",
    "Outfit details: thrifted blazer, white tee, straight-leg jeans.",
    "I'm slowly switching to refillable products where I can.",
    "The cap clicks shut, so no leaks in my gym bag so far.",
    "The lid feels secure enough to toss in my bag.",
    "Fifty milliliters lasts me roughly two months with daily use.",
    "Honestly the glow after a week surprised me a little.",
    "Skincare is personal, so take my notes as one person's experience.",
    "Spring cleaning my makeup bag and finally tossing expired mascara.",
    "Evening walk, golden hour, no phone for an hour, I recommend the feeling.",
    "The formula feels lightweight but keeps my skin comfortable until evening.",
    "Wore it on a long flight and my face didn't feel tight when we landed.",
    "Pairing it with a gentle cleanser has been the sweet spot for me.",
    "Quick note for sensitive skin folks: it has a little fragrance.",
    "Currently obsessed with the way it smells after a shower.",
    "Thanks for reading, see you next week!",
    "The first week I used it only at night, then added the mornings.",
)

# Clean sentences with a character that NFKC turns into several (… -> ..., ㎖ -> ml, ℃ -> °c,
# ™ -> tm): text.normalise then maps offsets character by character, which is slower. A share
# of drafts (SLOW_SHARE) gets one of them.
SLOW_CLEAN = {
    "cn": (
        "用了一段时间……说不上惊艳，但是很稳。",
        "50㎖的容量，我每天早晚用，大概能用两个月。",
        "室外零下5℃的时候，出门前我会多涂一层。",
    ),
    "en": (
        "The Glowlab™ pump never clogs, which is more than I can say for most.",
        "Honestly… I didn't expect to like it this much.",
    ),
}
SLOW_CLEAN["mixed"] = SLOW_CLEAN["cn"] + SLOW_CLEAN["en"]
SLOW_SHARE = 0.3

MIXED_CLEAN = (
    "这个serum的质地真的很lightweight，夏天用刚好。",
    "今天的OOTD是oversize西装配直筒牛仔裤。",
    "做了一个quick的morning routine，十分钟就能出门。",
    "这款cushion的遮瑕力中等，日常通勤够用。",
    "周末去了一家brunch店，eggs benedict做得很地道。",
    "最近在听一个English podcast，通勤路上顺便练听力。",
    "这支lip tint颜色很juicy，薄涂厚涂都好看。",
    "用完这个toner，后面上serum吸收得更快。",
    "和闺蜜去了趟Tokyo，drugstore里逛了一下午。",
    "Vlog已经剪好了，今晚八点发出来～",
    "这个brand的packaging真的很有设计感。",
    "Gym之后来一杯protein shake，顺便拉伸十分钟。",
    "我的skin type是combination，T区容易出油。",
    "这次haul一共买了六样东西，慢慢给大家review。",
    "Weekend mood：一杯latte，一本书，一下午。",
    "这款sunscreen是ＳＰＦ５０，不搓泥，不假白。",
    "整体来说是一个很safe的选择，新手也不容易踩雷。",
    "Honestly这个价格能有这个使用感，我觉得挺值。",
    "有问题可以comment，我会一条一条回复。",
    "最近的playlist全是city pop，边化妆边听很开心。",
    "第一次用这种jelly texture的面膜，感觉很新奇。",
    "Packaging是磨砂玻璃瓶，拿在手里很有分量。",
)

# (sentence, the rule ids it must be found by where those rules apply). {brand} and {handle}
# are the draft's brand and its handle.
# Templates multiply the fixed sentences: a 2,000-character Chinese draft is about 80 sentences,
# more than any fixed pool, so most of a draft's sentences come from here. {name} is a slot.
CN_TEMPLATES = (
    "{time}开始用这款{product}，{texture}，{verdict}。",
    "这瓶{product}是{where}买的，{texture}。",
    "{skin}的姐妹用{product}要注意用量，{tip}。",
    "{city}的{food}{taste}，{verdict2}。",
    "{time}在{city}待了几天，{activity}。",
)
CN_SLOTS = {
    "time": ("今天", "昨晚", "上周", "这个月", "换季以来", "出差这几天", "入冬以后", "假期里"),
    "product": (
        *("面霜", "精华液", "防晒乳", "洁面乳", "身体乳", "护手霜"),
        *("睡眠面膜", "眼霜", "爽肤水", "卸妆油", "润唇膏", "粉底液"),
    ),
    "texture": (
        *("质地很清爽", "推开很好涂抹", "吸收得很快", "用完脸上软软的"),
        *("味道很淡", "叠加其他产品也不搓泥", "上妆很服帖", "保湿能撑一整天"),
    ),
    "verdict": (
        *("我觉得挺适合我的肤质", "整体体验不错", "会继续用下去"),
        *("打算再观察一段时间", "性价比还可以", "包装也挺好看"),
    ),
    "where": ("在专柜", "在旗舰店", "在免税店", "托朋友从香港", "在超市"),
    "skin": ("干皮", "油皮", "混油皮", "敏感肌", "熟龄肌"),
    "tip": (
        *("少量多次更容易推开", "先在耳后试一下", "晚上可以厚涂一层"),
        *("早上薄涂就够了", "搭配保湿精华一起用"),
    ),
    "city": ("杭州", "成都", "厦门", "大理", "青岛", "西安", "长沙", "南京"),
    "food": ("小吃街", "早餐铺", "火锅店", "甜品店", "咖啡馆", "面馆"),
    "taste": ("味道很地道", "分量很足", "价格也不贵", "排队的人不少", "环境很安静"),
    "verdict2": ("下次还会再去", "爱吃的朋友可以去试试", "值得专门跑一趟", "适合周末去坐坐"),
    "activity": (
        *("每天都走了两万步", "拍了很多照片", "吃到了很多本地小吃"),
        *("天气一直很好", "住的民宿很干净"),
    ),
}
EN_TEMPLATES = (
    "{when} I switched to a {adj} {product} and {result}.",
    "The {product} from my {where} haul {texture}.",
    "{city} {meal} was {good}, {extra}.",
    "Tip for {skin} skin: {tip}.",
)
EN_SLOTS = {
    "when": (
        *("Last week", "This month", "Since the weather turned"),
        *("On my trip", "Over the holidays", "After my last facial"),
    ),
    "adj": ("lightweight", "fragrance-free", "creamy", "gel-based", "travel-size", "refillable"),
    "product": (
        *("moisturizer", "serum", "sunscreen", "cleanser", "body lotion"),
        *("hand cream", "eye cream", "toner", "cleansing balm", "lip balm"),
    ),
    "result": (
        *("my skin feels calmer", "I'm not missing my old one", "the texture won me over"),
        *("I use less product", "my routine got shorter"),
    ),
    "where": ("weekend", "drugstore", "airport", "online", "farmers market"),
    "texture": (
        *("sinks in quickly", "feels silky", "layers well under makeup"),
        *("smells faintly of citrus", "lasts all day"),
    ),
    "city": ("Lisbon", "Kyoto", "Austin", "Montreal", "Seoul", "Melbourne"),
    "meal": ("brunch", "street food", "ramen", "coffee", "the bakery run"),
    "good": ("so good", "worth the wait", "surprisingly cheap", "a little crowded"),
    "extra": (
        *("I'd go back tomorrow", "we walked it off after"),
        *("the view made up for it", "pictures in the carousel"),
    ),
    "skin": ("dry", "oily", "combination", "sensitive", "mature"),
    "tip": (
        *("apply it on damp skin", "go slow with actives", "don't skip the neck"),
        *("patch test new products", "keep it simple in winter"),
    ),
}
PER_TEMPLATE = 120


def expand(templates: Sequence[str], slots: dict[str, Sequence[str]], seed: str) -> list[str]:
    """Up to PER_TEMPLATE distinct sentences per template, slots filled at random (seeded)."""
    rng = random.Random(seed)
    found: list[str] = []
    for template in templates:
        names = [n for n in slots if "{" + n + "}" in template]
        made: set[str] = set()
        for _ in range(PER_TEMPLATE * 4):
            made.add(template.format(**{n: rng.choice(slots[n]) for n in names}))
            if len(made) >= PER_TEMPLATE:
                break
        found.extend(sorted(made))
    return found


CN_MADE = tuple(expand(CN_TEMPLATES, CN_SLOTS, "cn"))
EN_MADE = tuple(expand(EN_TEMPLATES, EN_SLOTS, "en"))
# (fixed sentences, template sentences) of each kind of draft; half of a draft's sentences
# come from each.
POOLS = {
    "cn": (CN_CLEAN, CN_MADE),
    "en": (EN_CLEAN, EN_MADE),
    "mixed": ((*MIXED_CLEAN, *CN_CLEAN[::3], *EN_CLEAN[::3]), (*CN_MADE[::2], *EN_MADE[::2])),
}

CN_VIOLATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("这款精华真的是全网第一好用，闭眼入不踩雷。", ("cn-ad-9-3-superlative",)),
    ("品牌方说这是国家级实验室研发的配方。", ("cn-ad-9-3-superlative",)),
    ("瓶身上印着國家級認證，看着就很安心。", ("cn-ad-9-3-superlative",)),
    ("朋友都说它是面霜界的ＮＯ．１，我试完也服气。", ("cn-ad-9-3-superlative",)),
    ("这是我用过的最佳防晒，没有之一。", ("cn-ad-9-3-superlative",)),
    ("销量第一的爆款终于被我抢到了。", ("cn-ad-9-3-superlative",)),
    ("這是世界級的工藝，細節都很講究。", ("cn-ad-9-3-superlative",)),
    ("这款应该是史上最温和的洁面了。", ("cn-ad-9-3-superlative",)),
    ("这支是今年最火的色号，柜台都断货了。", ("cn-ad-9-3-superlative",)),
    ("真的是最好用的一支口红。", ("cn-ad-9-3-superlative",)),
    ("论保湿它在我心里排第一。", ("cn-ad-9-3-first",)),
    ("闭眼入，绝对值得回购。", ("cn-ad-9-3-best",)),
    ("用了一周痘痘全消，祛痘效果太明显了。", ("cn-cosmetics-medical-claim",)),
    ("坚持用了7天祛斑效果肉眼可见。", ("cn-ad-16-medical-guarantee",)),
    ("官方数据说治愈率高达95%，我是信了。", ("cn-ad-16-medical-guarantee",)),
    ("保证有效，无效全额退款！", ("cn-ad-16-medical-guarantee",)),
    ("用完毛孔细到像换了一张脸，100%有效！", ("cn-ad-16-medical-guarantee",)),
    ("皮肤科医生推荐的修护面霜，敏感肌也能用。", ("cn-ad-28-false-claims",)),
    ("有需要的姐妹可以加微信 glow_2026 详聊。", ("xhs-off-platform-contact",)),
    ("想要同款的直接淘宝搜店名就行。", ("xhs-off-platform-contact",)),
    ("有问题打我电话13812345678。", ("xhs-off-platform-contact",)),
    ("#sp 感谢品牌寄来的新品，先试用再反馈。", ("cn-iam-ambiguous", "ftc-ambiguous-disclosure")),
    ("这条算是恰饭，但每句都是真实感受。", ("cn-iam-ambiguous",)),
    ("这款减肥茶喝了真的能刮油。", ("cn-food-medical-claim", "cn-cosmetics-medical-claim")),
    ("吃了三个月，医生说可以停药了。", ("cn-ad-18-health-food",)),
    ("稳赚不赔的理财课，年化收益稳定12%。", ("cn-ad-25-returns",)),
    ("报我们的班保过，不过退款。", ("cn-ad-24-education-guarantee",)),
    ("领导人同款茶叶，送礼很有面子。", ("cn-ad-9-2-state-endorsement",)),
    ("这款面膜能修复受损屏障，还能消炎。", ("cn-cosmetics-medical-claim",)),
)

EN_VIOLATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Honestly this one is clinically proven to calm redness.", ("ftc-255-2-typical-results",)),
    # "cures" (cosmetics) is inside the longer "cures acne" (FTC): one finding per place.
    ("This serum cures acne in a week, no joke.", ("ftc-health-finance-claims",)),
    ("It's FDA-approved, so I trust it on my face.", ("ftc-health-finance-claims",)),
    ("I lost 10 lbs in 2 weeks drinking this tea every morning!", ("ftc-255-2-typical-results",)),
    ("Thanks so much to @{handle} for sending this over!", ("ftc-ambiguous-disclosure",)),
    ("Thank you {brand} for the sweet package.", ("ftc-ambiguous-disclosure",)),
    ("Guaranteed results, or at least that's what the box says.", ("ftc-255-2-typical-results",)),
    ("This is the No.1 moisturizer on my shelf right now.", ("cn-ad-9-3-superlative",)),
    ("Full-width flex: ＮＯ．１ cleanser of the year for me.", ("cn-ad-9-3-superlative",)),
    ("Zero irritation and no side effects so far.", ("ftc-255-2-typical-results",)),
    ("It's basically a miracle in a bottle.", ("ftc-255-2-typical-results",)),
    ("Wearing the new collection today #gifted", ("ftc-ambiguous-disclosure",)),
    ("Loving this little haul #sp", ("ftc-ambiguous-disclosure", "cn-iam-ambiguous")),
    ("This medical grade peel is no joke.", ("cn-cosmetics-medical-claim",)),
    ("Guaranteed returns if you join my trading group.", ("ftc-health-finance-claims",)),
    ("Risk-free trial, so there's nothing to lose.", ("ftc-255-2-typical-results",)),
    ("My dermatologist recommended it and now I get why.", ("ftc-255-2-typical-results",)),
    ("This detox tea boosts immunity, apparently.", ("cn-food-medical-claim",)),
)

MIXED_VIOLATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("这个serum真的是全网第一好用，honestly obsessed。", ("cn-ad-9-3-superlative",)),
    ("Top1的cleanser非它莫属。", ("cn-ad-9-3-superlative",)),
    ("这个toner能消炎，痘痘肌可以试试。", ("cn-cosmetics-medical-claim",)),
    ("这款是clinically proven的，数据很漂亮。", ("ftc-255-2-typical-results",)),
    ("今天的vlog是恰饭，大家多多支持。", ("cn-iam-ambiguous",)),
)

CN_TITLES = (
    "油皮夏天救星🌿｜清爽不黏腻",
    "一个月空瓶记录｜真实测评",
    "杭州周末两日游攻略🍂",
    "通勤妆容分享｜十分钟出门",
    "换季护肤小心得",
    "平价好物开箱📦",
    "早餐打卡第30天🥣",
)
MIXED_TITLES = ("Morning routine｜十分钟出门", "Tokyo drugstore haul🛍️", "我的skincare日常")
CN_TAGS = (
    "护肤",
    "油皮护肤",
    "面霜测评",
    "好物分享",
    "杭州旅行",
    "通勤妆容",
    "平价好物",
    "早餐打卡",
)
EN_TAGS = (
    *("skincare", "skincareroutine", "springvibes", "adidasoriginals"),
    *("morningroutine", "selfcare", "ootd", "cleanbeauty"),
)
CN_BRANDS = ("润雪", "青禾", "Glowlab")
EN_BRANDS = ("Glowlab", "Dewdrop", "Verde")
HANDLES = {
    "润雪": "runxue_official",
    "青禾": "qinghe.beauty",
    "Glowlab": "glowlab.official",
    "Dewdrop": "dewdrop_skin",
    "Verde": "verde.skincare",
}
DISCLOSURES = {
    "cn": ("广告｜", "品牌合作｜", "【广告】"),
    "en": ("#ad ", "Paid partnership with {brand}. ", "[ad] "),
}
LATE_DISCLOSURES = {"cn": ("#广告",), "en": (" #ad",)}
LANGUAGES = (("cn", 0.45), ("en", 0.35), ("mixed", 0.20))


@dataclass(frozen=True)
class Draft:
    index: int
    language: str  # cn, en or mixed
    disclosure: str  # start, end or missing
    text: str
    title: str
    hashtags: tuple[str, ...]
    brand: str
    planted: tuple[tuple[str, ...], ...]  # per planted sentence, the rule ids it must be found by

    def post(self, platform: str | None, category: str | None) -> Post:
        return Post(
            text=self.text,
            title=self.title,
            hashtags=self.hashtags,
            platform=platform,
            jurisdiction=None,
            category=category,
            sponsored=True,
            brand=self.brand,
        )


class _Deck:
    """Sentences drawn without replacement from two pools, one or the other at random,
    each reshuffled when used up: a draft repeats a sentence only once it has used its whole
    pool."""

    def __init__(self, pools: tuple[Sequence[str], Sequence[str]], rng: random.Random) -> None:
        self.pools, self.rng = pools, rng
        self.left: list[list[str]] = [[], []]

    def draw(self) -> str:
        which = self.rng.randrange(2)
        if not self.left[which]:
            pool = self.pools[which]
            self.left[which] = self.rng.sample(list(pool), len(pool))
        return self.left[which].pop()


def _pick_language(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for language, share in LANGUAGES:
        total += share
        if roll < total:
            return language
    return LANGUAGES[-1][0]


def make_draft(index: int, seed: int, chars: int) -> Draft:
    """One draft whose text is exactly `chars` characters (seeded by seed and index)."""
    rng = random.Random(f"{seed}:{index}")
    language = _pick_language(rng)
    side = "en" if language == "en" else "cn" if language == "cn" else rng.choice(("cn", "en"))
    brand = rng.choice(EN_BRANDS if language == "en" else CN_BRANDS)
    handle = HANDLES[brand]
    clean = rng.random() < 0.4
    disclosure = "start" if clean else rng.choices(("start", "missing", "end"), (8, 1, 1))[0]
    prefix = rng.choice(DISCLOSURES[side]).format(brand=brand) if disclosure == "start" else ""
    suffix = rng.choice(LATE_DISCLOSURES[side]) if disclosure == "end" else ""
    if language == "cn":
        violations, separator = CN_VIOLATIONS, ""
    elif language == "en":
        violations, separator = EN_VIOLATIONS, " "
    else:
        violations, separator = MIXED_VIOLATIONS + CN_VIOLATIONS + EN_VIOLATIONS, " "
    planted = [] if clean else rng.sample(violations, rng.randint(1, 6))
    bad = [text.format(brand=brand, handle=handle) + separator for text, _ in planted]
    if rng.random() < SLOW_SHARE:
        bad.append(rng.choice(SLOW_CLEAN[language]) + separator)
    budget = chars - len(prefix) - len(suffix)
    deck = _Deck(POOLS[language], rng)
    filler: list[str] = []
    used = sum(len(b) for b in bad)
    while used < budget or not filler:
        piece = deck.draw() + ("\n\n" if rng.random() < 0.12 else separator)
        filler.append(piece)
        used += len(piece)
    # Everything but the last clean piece fits in the budget: only that piece is cut.
    for piece in bad:
        filler.insert(rng.randrange(len(filler)), piece)
    text = prefix + "".join(filler)[:budget] + suffix
    assert len(text) == chars, (index, len(text))
    if language == "en":
        title = ""
        tags = tuple(rng.sample(EN_TAGS, rng.randint(3, 6)))
    else:
        title = rng.choice(CN_TITLES if language == "cn" else MIXED_TITLES)
        tags = tuple(rng.sample(CN_TAGS, rng.randint(3, 5)))
    return Draft(
        index=index,
        language=language,
        disclosure=disclosure,
        text=text,
        title=title,
        hashtags=tags,
        brand=brand,
        planted=tuple(rules for _, rules in planted),
    )


def check_pools(engine: RuleEngine) -> list[str]:
    """Clean sentences that give a finding on the every-rule engine (none expected), and
    violation sentences that miss one of their rules: the benchmark's own mistakes, or the
    checker's."""
    problems = []
    pools = [sentence for fixed, made in POOLS.values() for sentence in (*fixed, *made)]
    slow = SLOW_CLEAN["mixed"]
    for sentence in (*sorted(set(pools)), *slow, *CN_TITLES, *MIXED_TITLES):
        result = engine.check(Post(text=sentence, sponsored=False), TODAY)
        for f in result.findings:
            problems.append(f"clean sentence {sentence!r}: {f.rule_id} on {f.match!r}")
    for template, rules in (*CN_VIOLATIONS, *EN_VIOLATIONS, *MIXED_VIOLATIONS):
        sentence = template.format(brand="Glowlab", handle="glowlab.official")
        post = Post(text=sentence, sponsored=False, brand="Glowlab")
        found = {f.rule_id for f in engine.check(post, TODAY).findings}
        missing = sorted(set(rules) - found)
        if missing:
            problems.append(f"violation {sentence!r}: not found by {', '.join(missing)}")
    return problems


# -- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    key: str
    label: str
    engine: str  # "shipped" or "every_rule"
    platform: str | None
    category: str | None
    is_target: bool


CELLS = (
    Cell("all_packs", "all packs (no platform, no category)", "shipped", None, None, True),
    Cell("every_rule", "every rule (xhs pack unrestricted)", "every_rule", None, None, True),
    Cell(
        "xiaohongshu",
        "xiaohongshu, skincare (CN packs)",
        "shipped",
        "xiaohongshu",
        "skincare",
        False,
    ),
    Cell("instagram", "instagram (US pack)", "shipped", "instagram", None, False),
)


def choose_cells(engines: dict[str, RuleEngine]) -> tuple[list[Cell], str]:
    """The cells to time. The every-rule cell only when it applies more rules than the
    all-packs cell (when a post with no platform gets the platform-limited packs too, the
    two are the same and it is left out)."""
    probe = Post(text="")
    every = len(engines["every_rule"].applicable(probe, TODAY))
    shipped = len(engines["shipped"].applicable(probe, TODAY))
    if every > shipped:
        return list(CELLS), f"all packs apply {shipped} rules; every rule {every}"
    note = (
        f"every-rule cell left out: a post with no platform already gets all {shipped} rules "
        "of all packs"
    )
    return [c for c in CELLS if c.key != "every_rule"], note


FLOORS = (
    ("normalise", "floor: text.normalise (text only)"),
    ("automaton", "floor: Aho-Corasick pass (text only)"),
)


def build_engines() -> tuple[dict[str, RuleEngine], dict[str, Any]]:
    """The shipped packs' engine (as check_offline compiles it: the highest version of each
    pack in force), and one with every pack's platform limit lifted; with their timings."""
    started = time.perf_counter_ns()
    packs = shipped_packs()
    loaded = time.perf_counter_ns()
    chosen: dict[str, RulePack] = {}
    for pack in packs:
        if pack.in_force(TODAY) and (
            pack.id not in chosen or pack.version > chosen[pack.id].version
        ):
            chosen[pack.id] = pack
    active = [chosen[k] for k in sorted(chosen)]
    compile_started = time.perf_counter_ns()
    shipped = RuleEngine(active)
    compiled = time.perf_counter_ns()
    unrestricted = [p.model_copy(update={"platforms": []}) for p in active]
    engines = {"shipped": shipped, "every_rule": RuleEngine(unrestricted)}
    info = {
        "packs": [
            {
                "key": p.key,
                "jurisdiction": p.jurisdiction,
                "platforms": p.platforms,
                "rules": len(p.rules),
                "terms": sum(len(r.terms) for r in p.rules),
                "exceptions": sum(len(r.exceptions) for r in p.rules),
                "patterns": sum(len(r.patterns) for r in p.rules),
            }
            for p in active
        ],
        "rules": len(shipped.rules),
        "automaton_keys": len(shipped.automaton),
        "load_packs_ms": round((loaded - started) / 1e6, 2),
        "compile_engine_ms": round((compiled - compile_started) / 1e6, 2),
    }
    return engines, info


@dataclass
class Series:
    """What one row measured: latencies in ns, and per draft what the first round found."""

    ns: list[int]
    findings: list[int]
    blocking: list[int]
    planted_expected: int = 0
    planted_found: int = 0
    misses: list[dict[str, Any]] | None = None
    drafts: list[int] = field(default_factory=list)  # the draft of each latency


def _planted(draft: Draft, result: CheckResult, applicable: set[str]) -> tuple[int, int, list]:
    """Planted (sentence, rule) pairs whose rule applies in this cell, and how many were found.
    A rule planted twice in a draft counts once (findings do not say which sentence)."""
    wanted = {rule for rules in draft.planted for rule in rules if rule in applicable}
    found = {f.rule_id for f in result.findings}
    missed = sorted(wanted - found)
    return len(wanted), len(wanted) - len(missed), missed


def measure(
    drafts: list[Draft],
    engines: dict[str, RuleEngine],
    cells: list[Cell],
    repeat: int,
    warmup: int,
    seed: int,
) -> tuple[dict[str, Series], dict[str, float | None], float]:
    """Every draft in every cell and through both floors, `repeat` rounds, each round in a
    fresh seeded order; cells and floors interleaved per draft so that noise on the machine
    falls on all rows alike. Returns the series, the CPU used, and the seconds taken."""
    posts = {c.key: [d.post(c.platform, c.category) for d in drafts] for c in cells}
    applicable = {
        c.key: {
            engines[c.engine].rules[i].rule.id
            for i in engines[c.engine].applicable(posts[c.key][0], TODAY)
        }
        for c in cells
    }
    for i in range(min(warmup, len(drafts))):
        for c in cells:
            engines[c.engine].check(posts[c.key][i], TODAY)
        deque(engines["shipped"].automaton.iter(normalise(drafts[i].text)), maxlen=0)
    series = {c.key: Series([], [], [], misses=[]) for c in cells}
    for key, _ in FLOORS:
        series[key] = Series([], [], [])
    automaton = engines["shipped"].automaton
    rng = random.Random(seed)
    progress = Progress("checking drafts", repeat * len(drafts), f" drafts x {len(cells)} cells")
    clock = time.perf_counter_ns
    gc.collect()
    meter = CpuMeter(None)
    started = time.perf_counter()
    for round_ in range(repeat):
        order = rng.sample(range(len(drafts)), len(drafts))
        for i in order:
            for c in cells:
                engine, post = engines[c.engine], posts[c.key][i]
                t0 = clock()
                result = engine.check(post, TODAY)
                t1 = clock()
                s = series[c.key]
                s.ns.append(t1 - t0)
                s.drafts.append(i)
                if round_ == 0:
                    s.findings.append(len(result.findings))
                    s.blocking.append(result.blocking)
                    wanted, found, missed = _planted(drafts[i], result, applicable[c.key])
                    s.planted_expected += wanted
                    s.planted_found += found
                    if missed and s.misses is not None:
                        s.misses.append({"draft": i, "missed": missed})
            text = drafts[i].text
            t0 = clock()
            normal = normalise(text)
            t1 = clock()
            deque(automaton.iter(normal), maxlen=0)
            t2 = clock()
            series["normalise"].ns.append(t1 - t0)
            series["automaton"].ns.append(t2 - t1)
            series["normalise"].drafts.append(i)
            series["automaton"].drafts.append(i)
            progress.advance()
    elapsed = time.perf_counter() - started
    cpu = meter.read()
    progress.done(f"in {elapsed:.1f} s")
    return series, cpu, elapsed


def _ms(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1e6, 4)


def make_row(
    key: str,
    label: str,
    s: Series,
    engines: dict[str, RuleEngine],
    drafts: list[Draft],
    cell: Cell | None = None,
) -> dict[str, Any]:
    ordered = sorted(s.ns)
    total_s = sum(ordered) / 1e9
    row: dict[str, Any] = {
        "key": key,
        "label": label,
        "kind": "cell" if cell else "floor",
        "n": len(ordered),
        "p50_ms": _ms(percentile(ordered, 50)),
        "p95_ms": _ms(percentile(ordered, 95)),
        "p99_ms": _ms(percentile(ordered, 99)),
        "max_ms": _ms(ordered[-1] if ordered else None),
        "mean_ms": round(total_s * 1000 / len(ordered), 4) if ordered else None,
        "per_second": round(len(ordered) / total_s, 1) if total_s else None,
        # For the chart: the 0th..100th percentiles, and the 99.9th.
        "percentiles_ms": [_ms(percentile(ordered, p)) for p in range(0, 101)],
        "p99_9_ms": _ms(percentile(ordered, 99.9)),
    }
    if cell is not None:
        engine = engines[cell.engine]
        sample = drafts[0].post(cell.platform, cell.category)
        rules = engine.applicable(sample, TODAY)
        row.update(
            {
                "platform": cell.platform,
                "category": cell.category,
                "engine": cell.engine,
                "is_target": cell.is_target,
                "packs": sorted({engine.rules[i].pack.key for i in rules}),
                "rules": len(rules),
                "findings_mean": round(sum(s.findings) / len(s.findings), 2),
                "blocking_mean": round(sum(s.blocking) / len(s.blocking), 2),
                "drafts_with_findings": sum(1 for f in s.findings if f),
                "findings_max": max(s.findings),
                "planted_expected": s.planted_expected,
                "planted_found": s.planted_found,
                "planted_misses": s.misses,
            }
        )
    return row


def _summary(ns: list[int]) -> dict[str, Any]:
    ordered = sorted(ns)
    return {
        "n": len(ordered),
        "p50_ms": _ms(percentile(ordered, 50)),
        "p95_ms": _ms(percentile(ordered, 95)),
        "p99_ms": _ms(percentile(ordered, 99)),
    }


def breakdowns(
    series: dict[str, Series], drafts: list[Draft], slow: set[int]
) -> dict[str, dict[str, Any]]:
    """Each row's latency by the draft's language, and by normalise's path (NFKC kept the
    length of the text, or not: then normalise maps offsets character by character)."""
    found: dict[str, dict[str, Any]] = {}
    for key, s in series.items():
        groups: dict[str, list[int]] = {}
        for ns, i in zip(s.ns, s.drafts, strict=True):
            groups.setdefault(f"language:{drafts[i].language}", []).append(ns)
            groups.setdefault("normalise:" + ("slow" if i in slow else "fast"), []).append(ns)
        found[key] = {name: _summary(values) for name, values in sorted(groups.items())}
    return found


def add_floor_ratios(rows: list[dict[str, Any]]) -> None:
    """`vs floors`: a cell's p50 over the p50 of the two floors added (normalise, then the
    automaton): what the checker costs beyond reading the text once."""
    floors = {r["key"]: r for r in rows if r["kind"] == "floor"}
    base = (floors["normalise"]["p50_ms"] or 0) + (floors["automaton"]["p50_ms"] or 0)
    for row in rows:
        if row["kind"] == "cell" and base:
            row["vs_floors"] = round(row["p50_ms"] / base, 1)


# -- pathological texts --------------------------------------------------------------------

# Texts no creator writes, of the same length as the drafts: what one check costs when the
# input is built to be slow (a long run of digits for the regular expressions, one term
# repeated for the findings). Not part of the target; timed in the all-packs cell.
PATHOLOGICAL = (
    # (key, label: ASCII, for the table's alignment, unit repeated)
    ("digits", "a run of digits: 1111...", "1"),
    ("superlative", "a blocking term (zui jia) repeated", "最佳"),
    ("warning", "a warning term (zui hao) repeated", "最好"),
    ("ambiguous tag", "'#sp ' repeated", "#sp "),
    ("ellipsis", "U+2026 ellipsis repeated", "…"),
    ("phone numbers", "'13800000000 ' repeated", "13800000000 "),
)
PATHOLOGICAL_RUNS = 3


def pathological(engine: RuleEngine, chars: int) -> list[dict[str, Any]]:
    """Each text: the median of PATHOLOGICAL_RUNS checks, after one untimed."""
    rows = []
    for key, label, unit in PATHOLOGICAL:
        text = (unit * (chars // len(unit) + 1))[:chars]
        post = Post(text=text, sponsored=True)
        engine.check(post, TODAY)
        times = []
        for _ in range(PATHOLOGICAL_RUNS):
            t0 = time.perf_counter_ns()
            result = engine.check(post, TODAY)
            times.append(time.perf_counter_ns() - t0)
        rows.append(
            {
                "key": key,
                "label": label,
                "unit": unit,
                "chars": len(text),
                "median_ms": _ms(sorted(times)[len(times) // 2]),
                "findings": len(result.findings),
            }
        )
    return rows


def pathological_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        (r["label"], f"{r['chars']:,}", fmt(r["median_ms"]), f"{r['findings']:,}") for r in rows
    ]
    return render_table(("text", "chars", "ms", "findings"), lines, left=1)


# -- accuracy -------------------------------------------------------------------------------

POST_FIELDS = ("text", "title", "platform", "jurisdiction", "category", "sponsored", "brand")


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    lines, bad = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            bad.append(f"line {number}: {exc}")
            continue
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            bad.append(f"line {number}: not an object with a text")
            continue
        value.setdefault("id", f"line-{number}")
        lines.append(value)
    return lines, bad


def _post(line: dict[str, Any]) -> Post:
    kwargs = {k: line[k] for k in POST_FIELDS if line.get(k) is not None}
    return Post(hashtags=tuple(line.get("hashtags") or ()), **kwargs)


def _rule_id(expected: str) -> str:
    """Rule ids may be written `pack:rule`; a rule id itself has no colon."""
    return expected.rsplit(":", 1)[-1]


# The two corpora of ordinary posts: the first was used to tune the rules' exceptions, the
# second never was, so its rates are the honest estimate (tests/compliance/test_corpus.py).
COMPLIANT_CORPORA = (
    ("compliant", "compliant_posts.jsonl", "tuning"),
    ("compliant_heldout", "compliant_posts_heldout.jsonl", "held-out"),
)


def false_positives(path: Path) -> dict[str, Any]:
    """Posts of a compliant corpus with any finding, and with a blocking one."""
    if not path.is_file():
        return {"path": str(path), "missing": True}
    lines, bad = _read_jsonl(path)
    found_list, block_posts, any_posts = [], 0, 0
    by_rule: Counter[str] = Counter()
    for line in lines:
        findings = check_offline(_post(line)).findings
        if findings:
            any_posts += 1
        if any(f.severity == "block" for f in findings):
            block_posts += 1
        for f in findings:
            by_rule[f.rule_id] += 1
            found_list.append(
                {
                    "id": line["id"],
                    "rule_id": f.rule_id,
                    "severity": f.severity,
                    "kind": f.kind,
                    "field": f.field,
                    "match": f.match,
                }
            )
    n = len(lines)
    return {
        "path": str(path),
        "posts": n,
        "unreadable_lines": bad,
        "posts_with_block": block_posts,
        "posts_with_any": any_posts,
        "block_rate": round(block_posts / n, 4) if n else None,
        "any_rate": round(any_posts / n, 4) if n else None,
        "findings_by_rule": dict(by_rule.most_common()),
        "false_positives": found_list,
    }


def accuracy(corpus: Path) -> dict[str, Any]:
    """False positives on the compliant corpora and recall on violations.jsonl, each checked
    with service.check_offline as `pappus compliance check` does; missing files are said so."""
    result: dict[str, Any] = {"corpus": str(corpus)}
    for key, name, _label in COMPLIANT_CORPORA:
        result[key] = false_positives(corpus / name)
    violations = corpus / "violations.jsonl"
    if violations.is_file():
        lines, bad = _read_jsonl(violations)
        scored, hits, misses = 0, 0, []
        per_rule: dict[str, list[int]] = {}
        for line in lines:
            expected = [_rule_id(str(e)) for e in line.get("expect") or []]
            if not expected:
                bad.append(f"{line['id']}: no expect")
                continue
            found = {f.rule_id for f in check_offline(_post(line)).findings}
            scored += 1
            missing = sorted(set(expected) - found)
            if missing:
                misses.append(
                    {
                        "id": line["id"],
                        "missing": missing,
                        "found": sorted(found),
                        "text": line["text"][:200],
                    }
                )
            else:
                hits += 1
            for rule in set(expected):
                counts = per_rule.setdefault(rule, [0, 0])
                counts[0] += 1
                counts[1] += rule in found
        result["violations"] = {
            "path": str(violations),
            "lines": scored,
            "unreadable_lines": bad,
            "all_expected_found": hits,
            "recall": round(hits / scored, 4) if scored else None,
            "recall_by_rule": {
                rule: {"expected": n, "found": f, "recall": round(f / n, 4)}
                for rule, (n, f) in sorted(per_rule.items())
            },
            "misses": misses,
        }
    else:
        result["violations"] = {"path": str(violations), "missing": True}
    return result


# -- report ---------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.2f}"
    return f"{value:.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    header = (
        *("row", "packs", "rules", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"),
        *("per s", "findings", "blocking", "planted found", "vs floors"),
    )
    lines = []
    for r in rows:
        cell = r["kind"] == "cell"
        planted = (
            f"{r['planted_found']:,}/{r['planted_expected']:,}"
            if cell and r["planted_expected"]
            else "-"
        )
        lines.append(
            (
                r["label"],
                str(len(r["packs"])) if cell else "-",
                str(r["rules"]) if cell else "-",
                f"{r['n']:,}",
                fmt(r["p50_ms"]),
                fmt(r["p95_ms"]),
                fmt(r["p99_ms"]),
                fmt(r["max_ms"]),
                f"{r['per_second']:,.0f}",
                f"{r['findings_mean']:.2f}" if cell else "-",
                f"{r['blocking_mean']:.2f}" if cell else "-",
                planted,
                f"{r['vs_floors']:.1f}x" if cell and "vs_floors" in r else "-",
            )
        )
    return render_table(header, lines, left=1)


def breakdown_lines(rows: list[dict[str, Any]]) -> list[str]:
    """p50/p95 by language and by normalise's path, for the all-packs cell and normalise."""
    lines = []
    for row in rows:
        if row["key"] not in ("all_packs", "normalise"):
            continue
        parts: dict[str, list[str]] = {"language": [], "normalise": []}
        for name, b in row["breakdown"].items():
            group, value = name.split(":")
            parts[group].append(f"{value} {fmt(b['p50_ms'])}/{fmt(b['p95_ms'])} ({b['n']:,})")
        lines.append(
            f"{row['label']}: p50/p95 ms (n) by language: {', '.join(parts['language'])}; by "
            f"normalise's path (slow: NFKC changed the length): {', '.join(parts['normalise'])}"
        )
    return lines


def accuracy_lines(acc: dict[str, Any]) -> list[str]:
    lines = []
    for key, _name, label in COMPLIANT_CORPORA:
        c = acc[key]
        if c.get("missing"):
            lines.append(f"false positives ({label}): no {c['path']} (not measured)")
            continue
        lines.append(
            f"false positives on {c['posts']:,} compliant posts ({label}): "
            f"{c['posts_with_block']:,} with a blocking finding ({fmt_rate(c['block_rate'])}), "
            f"{c['posts_with_any']:,} with any finding ({fmt_rate(c['any_rate'])})"
            + (f"; {len(c['unreadable_lines'])} unreadable lines" if c["unreadable_lines"] else "")
        )
        if c["findings_by_rule"]:
            by_rule = ", ".join(f"{k} {v}" for k, v in c["findings_by_rule"].items())
            lines.append(f"  findings by rule: {by_rule}")
        for fp in c["false_positives"][:EXAMPLES_PRINTED]:
            lines.append(
                f"  {fp['id']}: {fp['rule_id']} ({fp['severity']}, {fp['kind']}) on "
                f"{fp['field']} {fp['match']!r}"
            )
        if len(c["false_positives"]) > EXAMPLES_PRINTED:
            lines.append(
                f"  ... and {len(c['false_positives']) - EXAMPLES_PRINTED} more (all in the JSON)"
            )
    v = acc["violations"]
    if v.get("missing"):
        lines.append(f"recall: no {v['path']} (not measured)")
    else:
        lines.append(
            f"recall on {v['lines']:,} violating posts (every expected rule found): "
            f"{v['all_expected_found']:,} ({fmt_rate(v['recall'])})"
            + (f"; {len(v['unreadable_lines'])} lines skipped" if v["unreadable_lines"] else "")
        )
        for m in v["misses"][:EXAMPLES_PRINTED]:
            lines.append(f"  {m['id']}: missing {', '.join(m['missing'])}; found {m['found']}")
        if len(v["misses"]) > EXAMPLES_PRINTED:
            lines.append(f"  ... and {len(v['misses']) - EXAMPLES_PRINTED} more (all in the JSON)")
    return lines


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def target_lines(rows: list[dict[str, Any]], chars: int) -> list[str]:
    lines = []
    for r in rows:
        if r["kind"] != "cell" or not r["is_target"]:
            continue
        ok = chars >= TARGET_CHARS and r["p95_ms"] < TARGET_P95_MS
        lines.append(
            f"p95 < {TARGET_P95_MS:g} ms at {TARGET_CHARS:,} chars, all packs: "
            f"{'PASS' if ok else 'MISS'} ({r['label']}: p95 {fmt(r['p95_ms'])} ms over "
            f"{r['n']:,} checks of {chars:,}-character drafts, {len(r['packs'])} packs, "
            f"{r['rules']} rules)"
        )
    return lines


def source_digest() -> str:
    """A digest of pappus.compliance's files (code and shipped packs): no git here, and other
    work may change src/ while a run goes, so it is taken at the start and at the end."""
    import pappus.compliance as package

    root = Path(package.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.yaml")]):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _slow_path(text: str) -> bool:
    """normalise folds character by character when NFKC and case folding change the length
    (… ㎖ ℃ ™ ß): the slower of its two paths."""
    return len(unicodedata.normalize("NFKC", text).casefold()) != len(text)


def describe_drafts(drafts: list[Draft]) -> dict[str, Any]:
    slow = sum(1 for d in drafts if _slow_path(d.text))
    planted = Counter(rule for d in drafts for rules in d.planted for rule in rules)
    return {
        "n": len(drafts),
        "chars": len(drafts[0].text) if drafts else 0,
        "by_language": dict(Counter(d.language for d in drafts)),
        "by_disclosure": dict(Counter(d.disclosure for d in drafts)),
        "clean": sum(1 for d in drafts if not d.planted),
        "planted_sentences": sum(len(d.planted) for d in drafts),
        "planted_by_rule": dict(planted.most_common()),
        "title_chars_mean": round(sum(len(d.title) for d in drafts) / len(drafts), 1),
        "hashtag_line_chars_mean": round(
            sum(len(d.post(None, None).hashtag_line) for d in drafts) / len(drafts), 1
        ),
        # NFKC changed the length (㎖ -> ml): normalise maps offsets character by character.
        "normalise_slow_path": slow,
        "examples": {
            language: next((d.text[:240] for d in drafts if d.language == language), None)
            for language, _ in LANGUAGES
        },
    }


# -- command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/compliance.py",
        description=(
            "Time the compliance checker on seeded drafts of exactly 2,000 characters\n"
            "(Chinese, English and mixed; clean and with planted violations) against all\n"
            "rule packs, the CN packs (xiaohongshu, skincare) and the US pack (instagram),\n"
            "beside two floors measured on the same drafts: text.normalise and the bare\n"
            "Aho-Corasick pass. In-process, one thread. Then, when the corpora in\n"
            "tests/compliance/corpus/ exist, the false-positive rate and the recall with\n"
            "check_offline. Judges 'p95 < 5 ms at 2,000 chars, all packs'; writes JSON and a\n"
            "PNG chart beside it. Contacts nothing. See docs/benchmarks.md."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--drafts", type=int, default=1000, help="drafts generated (default: %(default)s)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="rounds over all drafts, each in a new seeded order; n = drafts x repeat "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--chars",
        type=int,
        default=TARGET_CHARS,
        help="characters of each draft's text (title and hashtags come on top; the target "
        "is judged at 2,000 or more) (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="seed of the drafts and the order (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=50,
        help="checks per cell before timing starts (default: %(default)s)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="folder with compliant_posts.jsonl and violations.jsonl; either may be missing "
        "(default: tests/compliance/corpus)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON results; the chart is written beside it as .png "
        "(default: bench/results/compliance.json)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.drafts <= MAX_DRAFTS:
        parser.error(f"--drafts must be between 1 and {MAX_DRAFTS:,}")
    if not 1 <= args.repeat <= MAX_REPEAT:
        parser.error(f"--repeat must be between 1 and {MAX_REPEAT}")
    if not 500 <= args.chars <= 20_000:
        parser.error("--chars must be between 500 and 20,000 (the API's limit)")
    if args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    digest = source_digest()
    load_average = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if load_average and load_average[0] > 0.5:
        say(f"!! the machine is busy before the run (load average {load_average[0]:.1f})")
    engines, engine_info = build_engines()
    say(
        f"compliance benchmark: {len(engine_info['packs'])} packs, {engine_info['rules']} rules, "
        f"{engine_info['automaton_keys']} automaton keys (loaded in "
        f"{engine_info['load_packs_ms']:.0f} ms, compiled in "
        f"{engine_info['compile_engine_ms']:.0f} ms); {args.drafts:,} drafts of "
        f"{args.chars:,} characters x {args.repeat} round(s)"
    )
    cells, cells_note = choose_cells(engines)
    say(cells_note)
    problems = check_pools(engines["every_rule"])
    for problem in problems:
        say(f"!! sentence pool: {problem}")
    drafts = [make_draft(i, args.seed, args.chars) for i in range(args.drafts)]
    series, cpu, elapsed = measure(drafts, engines, cells, args.repeat, args.warmup, args.seed)
    rows = [make_row(c.key, c.label, series[c.key], engines, drafts, c) for c in cells]
    rows += [make_row(key, label, series[key], engines, drafts) for key, label in FLOORS]
    add_floor_ratios(rows)
    slow = {d.index for d in drafts if _slow_path(d.text)}
    split = breakdowns(series, drafts, slow)
    for row in rows:
        row["breakdown"] = split[row["key"]]
    say("timing pathological texts ...")
    worst = pathological(engines["shipped"], args.chars)
    say("checking the corpora ...")
    acc = accuracy(args.corpus)
    machine = machine_info()
    machine["load_average_at_start"] = load_average
    machine["packages"] = package_versions(PACKAGES)
    report: dict[str, Any] = {
        "benchmark": "compliance",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python bench/compliance.py", *sys.argv[1:]]),
        "source_digest": {"start": digest, "end": source_digest()},
        "settings": {
            "drafts": args.drafts,
            "repeat": args.repeat,
            "chars": args.chars,
            "seed": args.seed,
            "warmup": args.warmup,
            "day": TODAY.isoformat(),
            "cells": [
                {"key": c.key, "platform": c.platform, "category": c.category, "engine": c.engine}
                for c in cells
            ],
            "cells_note": cells_note,
        },
        "machine": machine,
        "engine": engine_info,
        "drafts": describe_drafts(drafts),
        "pool_problems": problems,
        "timed_loop": {"seconds": round(elapsed, 2), "cpu": cpu},
        "results": rows,
        "pathological": worst,
        "accuracy": acc,
    }
    report["targets"] = target_lines(rows, args.chars)
    d = report["drafts"]
    print()
    languages = ", ".join(f"{k} {v}" for k, v in d["by_language"].items())
    disclosures = ", ".join(f"{k} {v}" for k, v in d["by_disclosure"].items())
    print(
        f"{d['n']:,} drafts of {d['chars']:,} characters ({languages}; {d['clean']} clean; "
        f"disclosure {disclosures}), "
        f"plus a title of {d['title_chars_mean']:.0f} and hashtags of "
        f"{d['hashtag_line_chars_mean']:.0f} characters on average; {args.repeat} round(s)"
    )
    print()
    print(table(rows))
    print(
        "(findings, blocking: mean per draft; planted found: planted rules found / planted "
        "rules that apply in the cell; vs floors: p50 over the two floors' p50s added)"
    )
    print()
    for line in breakdown_lines(rows):
        print(line)
    print()
    print(
        f"Pathological {args.chars:,}-character texts, all packs (median of "
        f"{PATHOLOGICAL_RUNS}; not part of the target):"
    )
    print(pathological_table(worst))
    print()
    for line in accuracy_lines(acc):
        print(line)
    print()
    for line in report["targets"]:
        print(line)
    other = cpu.get("other_pct")
    if other is not None and other > OTHER_CPU_WARNING:
        say(
            f"!! other processes used {other:.0f}% of a core during the timed loop: the "
            "latencies are high; rerun on a quiet machine"
        )
    if report["source_digest"]["end"] != digest:
        say("!! pappus.compliance's files changed on disk during the run (source_digest)")
    report["runtime_s"] = round(time.monotonic() - started, 1)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nJSON:  {out}")
    chart = out.with_suffix(".png")
    if draw_chart(report, chart):
        print(f"chart: {chart}")
    print(f"total time: {report['runtime_s']:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("\ninterrupted")
        sys.exit(130)
