"""The sandbox world of `pappus demo`: two brands, creators, campaigns and an order in every
workflow state, built through the same services the API uses, with the clock moved back so
deadlines and timers look as they would in real use."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pappus.accounts import service as accounts
from pappus.accounts.principal import Principal
from pappus.campaigns import schemas as campaign_schemas
from pappus.campaigns import service as campaigns
from pappus.config import get_settings
from pappus.connectors import service as social
from pappus.creators import contact
from pappus.creators import service as creators
from pappus.creators.schemas import CreatorUpdate
from pappus.db import Database
from pappus.kit.clock import clock
from pappus.ledger import service as ledger
from pappus.messaging import service as messaging
from pappus.orders import publishing
from pappus.orders import schemas as order_schemas
from pappus.orders import service as orders
from pappus.sandbox import consent
from pappus.sandbox import world as sandbox_world
from pappus.sandbox.world import WorldSpec

DEMO_PASSWORD = "pappus-demo-2026"

CREATORS: list[dict[str, Any]] = [
    {
        "name": "Lin Xiaoyu 林小雨",
        "followers": 86_000,
        "categories": ["skincare", "beauty"],
        "regions": ["CN-31"],
        "handle": "xiaoyu.glow",
        "er": 520,
    },
    {
        "name": "Chen Mo 陈默",
        "followers": 23_500,
        "categories": ["skincare"],
        "regions": ["CN-44"],
        "handle": "chenmo_skin",
        "er": 610,
    },
    {
        "name": "Amy Zhou",
        "followers": 8_200,
        "categories": ["beauty", "lifestyle"],
        "regions": ["CN-11"],
        "handle": "amyzhou",
        "er": 880,
    },
    {
        "name": "Wang Jia 王佳",
        "followers": 152_000,
        "categories": ["beauty", "fashion"],
        "regions": ["CN-33"],
        "handle": "wangjia.daily",
        "er": 340,
    },
    {
        "name": "Sophie Li",
        "followers": 41_000,
        "categories": ["skincare", "health"],
        "regions": ["CN-51"],
        "handle": "sophie.skinlab",
        "er": 450,
    },
    {
        "name": "Zhang Yue 张悦",
        "followers": 12_800,
        "categories": ["beauty"],
        "regions": ["CN-32"],
        "handle": "yue_makeup",
        "er": 700,
    },
    {
        "name": "Ma Ke 马可",
        "followers": 5_400,
        "categories": ["skincare", "lifestyle"],
        "regions": ["CN-50"],
        "handle": "make.notes",
        "er": 930,
    },
    {
        "name": "Grace Huang",
        "followers": 64_000,
        "categories": ["beauty"],
        "regions": ["CN-44"],
        "handle": "gracehuang",
        "er": 410,
    },
    {
        "name": "Liu Yang 刘洋",
        "followers": 19_000,
        "categories": ["skincare", "fitness"],
        "regions": ["CN-42"],
        "handle": "liuyang.fit",
        "er": 560,
    },
]

# Each demo order's story: (state, days ago it was created, steps as (days ago, action)).
ORDER_STORIES: list[tuple[str, list[tuple[float, str]]]] = [
    ("awaiting_draft", [(1, "accept")]),
    ("draft_review", [(3, "accept"), (1, "draft")]),
    ("changes_requested", [(5, "accept"), (3, "draft"), (2, "changes")]),
    ("approved", [(6, "accept"), (4, "draft"), (3, "approve")]),
    (
        "published",
        [
            (10, "accept"),
            (8, "draft"),
            (7, "approve"),
            (3, "publish"),
            (2.5, "traffic"),
            (2, "metrics"),
            (1.5, "traffic"),
            (1, "metrics"),
        ],
    ),
    (
        "completed",
        [
            (25, "accept"),
            (22, "draft"),
            (21, "approve"),
            (20, "publish"),
            (19, "traffic"),
            (16, "metrics"),
            (15, "traffic"),
            (14, "metrics"),
            (12.9, "sweep"),
        ],
    ),
    ("cancelled", [(9, "accept"), (8, "cancel")]),
    # Its first draft breaks the Advertising Law, so the compliance check sends it straight back.
    (
        "disputed",
        [
            (7, "accept"),
            (6.5, "blocked_draft"),
            (6, "draft"),
            (5, "changes"),
            (4, "draft"),
            (2, "dispute"),
        ],
    ),
]


class _Demo:
    def __init__(self, db: Database, real_now: datetime) -> None:
        self.db = db
        self.real_now = real_now

    def at(self, days_ago: float) -> None:
        clock.freeze(self.real_now - timedelta(days=days_ago))

    def principal(self, session: Session, email: str) -> Principal:
        user = accounts.get_user_by_email(session, email)
        return accounts.principal_for_user(session, user)

    def register(self, **kwargs: Any) -> tuple[str, str | None]:
        with self.db.unit_of_work() as session:
            user, org, creator_id = accounts.register(session, password=DEMO_PASSWORD, **kwargs)
            return user.email, org.id if org else creator_id


def seed_demo(url: str, progress: Callable[[int], None] = lambda _: None) -> list[tuple[str, str]]:
    """Fill a migrated, empty database with the demo world; returns the logins to print."""
    db = Database(url)
    demo = _Demo(db, clock.now())
    try:
        return _seed(demo, progress)
    finally:
        clock.reset()
        db.dispose()


def _seed(demo: _Demo, progress: Callable[[int], None]) -> list[tuple[str, str]]:
    demo.at(40)
    brand_email, org_id = demo.register(
        kind="brand",
        email="brand@demo.pappus.dev",
        display_name="Mei (brand owner)",
        organization_name="Dandelion Skincare 蒲公英护肤",
    )
    viewer_email, _ = demo.register(
        kind="brand",
        email="viewer@demo.pappus.dev",
        display_name="Tom (analyst)",
        organization_name="Tom's sandbox",
    )
    rival_email, _ = demo.register(
        kind="brand",
        email="rival@demo.pappus.dev",
        display_name="Rival owner",
        organization_name="Rival Cosmetics",
    )
    with demo.db.unit_of_work() as session:
        owner = demo.principal(session, brand_email)
        accounts.add_member(session, owner, str(org_id), viewer_email, "viewer")
        deposit = ledger.create_deposit(session, owner, str(org_id), 50_000_000, "CNY")
        ledger.confirm_sandbox_deposit_now(session, deposit)
        accounts.create_staff(
            session,
            email="staff@demo.pappus.dev",
            password=DEMO_PASSWORD,
            display_name="Pappus reviewer",
            role="admin",
        )
    progress(10)

    creator_emails = []
    for index, spec in enumerate(CREATORS, start=1):
        email, creator_id = demo.register(
            kind="creator", email=f"creator{index}@demo.pappus.dev", display_name=spec["name"]
        )
        with demo.db.unit_of_work() as session:
            creators.update_profile(
                session,
                str(creator_id),
                CreatorUpdate.model_validate(
                    {
                        "bio": f"{spec['name']} shares honest {spec['categories'][0]} reviews.",
                        "categories": spec["categories"],
                        "regions": spec["regions"],
                        "languages": ["zh", "en"],
                        "formats": ["image_post", "short_video"],
                        "primary_platform": "xiaohongshu",
                        "handle": spec["handle"],
                        "followers": spec["followers"],
                        "rate_card": [
                            {
                                "format": "image_post",
                                "amount": spec["followers"] * 8,
                                "currency": "CNY",
                            }
                        ],
                    }
                ),
            )
            creators.get_profile(session, str(creator_id)).engagement_rate_bp = spec["er"]
        if index % 3:  # two in three have proved their contact email; discovery can tell
            _verify_contact(demo, str(creator_id))
        creator_emails.append(email)
    progress(30)

    with demo.db.unit_of_work() as session:
        owner = demo.principal(session, brand_email)
        seeding = campaigns.create_campaign(session, owner, _seeding_brief())
        live = campaigns.create_campaign(session, owner, _live_brief())
        campaigns.create_campaign(session, owner, _draft_brief())
        campaigns.change_status(session, owner, seeding.id, "open")
        campaigns.change_status(session, owner, live.id, "open")
        seeding_id, live_id = seeding.id, live.id
    progress(40)

    for (state, steps), creator_email in zip(ORDER_STORIES, creator_emails, strict=False):
        _play_story(demo, brand_email, creator_email, seeding_id, state, steps)
        progress(6)

    demo.at(0.5)
    with demo.db.unit_of_work() as session:
        spare = demo.principal(session, creator_emails[8])
        campaigns.apply(
            session,
            spare,
            seeding_id,
            campaign_schemas.ApplicationCreate(
                proposal="Two image posts comparing the serum with my current routine.",
                quote_amount=260_000,
                currency="CNY",
            ),
        )
        owner = demo.principal(session, brand_email)
        campaigns.invite(
            session,
            owner,
            live_id,
            campaign_schemas.InvitationCreate(
                creator_id=str(spare.creator_id),
                message="Join our sunscreen live session!",
                offer_amount=400_000,
            ),
        )
    progress(12)
    return [
        ("brand owner", brand_email),
        ("brand viewer", viewer_email),
        ("another brand", rival_email),
        ("platform staff (admin)", "staff@demo.pappus.dev"),
        *[(f"creator {i}", e) for i, e in enumerate(creator_emails, start=1)],
    ]


def _verify_contact(demo: _Demo, creator_id: str) -> None:
    """As the creator would: ask for a code, read it in the mail (held in the outbox, since
    the demo has no mail server), enter it."""
    with demo.db.unit_of_work() as session:
        address = contact.request_code(session, creator_id).verification.address
    with demo.db.unit_of_work() as session:
        mail = messaging.outbox(session, recipient=address, limit=1)[0]
        code = re.search(r"\b(\d{6})\b", mail.body)
        assert code is not None, "the verification mail carries its code"
        refusal = contact.confirm_code(session, creator_id, code.group(1))
        assert refusal is None, refusal


def _play_story(
    demo: _Demo,
    brand_email: str,
    creator_email: str,
    campaign_id: str,
    state: str,
    steps: list[tuple[float, str]],
) -> None:
    order_id = ""
    views = 0
    for days_ago, step in steps:
        demo.at(days_ago)
        with demo.db.unit_of_work() as session:
            brand = demo.principal(session, brand_email)
            creator = demo.principal(session, creator_email)
            if step == "accept":
                demo.at(days_ago + 0.5)
                application = campaigns.apply(
                    session,
                    creator,
                    campaign_id,
                    campaign_schemas.ApplicationCreate(
                        proposal="One image post and one short video about the serum.",
                        quote_amount=300_000 + 50_000 * len(state),
                        currency="CNY",
                    ),
                )
                demo.at(days_ago)
                _, order = campaigns.accept_application(session, brand, application.id, None)
                order_id = order.id
            elif step == "draft":
                orders.submit_draft(
                    session,
                    creator,
                    order_id,
                    order_schemas.DraftCreate(
                        title="My 14-day serum diary",
                        hashtags=["广告", "ad", "skincare"],
                        body="Two weeks with the Glow serum: texture, finish and how my skin felt."
                        " #ad"
                        " #品牌合作",
                    ),
                )
            elif step == "blocked_draft":
                orders.submit_draft(
                    session,
                    creator,
                    order_id,
                    order_schemas.DraftCreate(
                        title="全网第一的精华",
                        hashtags=["广告", "skincare"],
                        body="用了两周, 这是我用过最好用的精华, 痘痘都被治愈了。",
                    ),
                )
            elif step in {"changes", "approve"}:
                draft = orders.latest_draft(session, order_id)
                assert draft is not None
                if step == "changes":
                    orders.request_changes(
                        session, brand, order_id, draft.id, "Please show the texture close up."
                    )
                else:
                    orders.approve_draft(session, brand, order_id, draft.id, "Lovely, go ahead.")
            elif step == "publish":
                orders.publish(
                    session,
                    creator,
                    order_id,
                    order_schemas.PublicationCreate(
                        post_url=f"https://www.xiaohongshu.com/explore/demo{order_id[-8:]}"
                    ),
                    "xiaohongshu",
                )
            elif step == "metrics":
                views += 9_000
                staff = demo.principal(session, "staff@demo.pappus.dev")
                orders.record_metrics(
                    session,
                    staff,
                    order_id,
                    order_schemas.MetricSnapshotCreate(
                        taken_at=clock.now(),
                        views=views,
                        likes=views // 14,
                        comments=views // 90,
                        saves=views // 30,
                        shares=views // 200,
                        clicks=views // 40,
                        conversions=views // 900,
                    ),
                )
            elif step == "traffic":
                _traffic(session, brand, order_id, round(days_ago * 10))
            elif step == "sweep":
                for due_id, action in orders.due_timers(session, clock.now()):
                    if due_id == order_id:
                        orders.fire_timer(session, due_id, action, clock.now())
            elif step == "cancel":
                orders.cancel(session, brand, order_id, "Budget moved to the live campaign.")
            elif step == "dispute":
                orders.open_dispute(
                    session,
                    creator,
                    order_id,
                    "The brand keeps asking for changes outside the brief.",
                )


DEMO_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 XiaoHongShu",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)


def _traffic(session: Session, brand: Principal, order_id: str, seed: int) -> None:
    """A day of the post's audience: clicks on its tracking link (some bots, some repeats),
    sales with its coupon or after a click, and one refund."""
    from pappus.analytics import clicks as click_ingest
    from pappus.analytics import conversions, links
    from pappus.analytics.clicks import ClickIn
    from pappus.kit.ids import new_id

    rng = random.Random(seed)
    link, _ = links.create_link(
        session, brand, order_id, "https://dandelion.example/serum", "post bio link"
    )
    coupon, _ = conversions.create_coupon(session, brand, order_id, f"GLOW{seed}", "10% off")
    start = clock.now() - timedelta(hours=10)
    made = []
    for n in range(rng.randint(120, 180)):
        agent = DEMO_AGENTS[3] if rng.random() < 0.05 else rng.choice(DEMO_AGENTS[:3])
        visitor = f"{rng.randint(1, 90)}"
        made.append(
            ClickIn(
                id=new_id("clk"),
                link_id=link.id,
                order_id=order_id,
                campaign_id=link.campaign_id,
                organization_id=link.organization_id,
                at=start + timedelta(minutes=n * 3 + rng.randint(0, 2)),
                visitor_hash=f"demo{visitor:>28}",
                user_agent=agent,
                referrer="https://www.xiaohongshu.com/",
                is_bot=agent == DEMO_AGENTS[3],
            )
        )
    click_ingest.ingest_clicks(session, made)
    stores = conversions.list_stores(session, brand, link.organization_id)
    if stores:
        store_id = stores[0].id
    else:
        store_id = conversions.create_store(
            session, brand, link.organization_id, "Tmall flagship", "CNY", 7
        )[0].id
    sales = [
        {"coupon_codes": [coupon.code]},
        {"coupon_codes": [coupon.code]},
        {"click_ids": [made[10].id]},
    ]
    for index, touch in enumerate(sales):
        conversions.record_demo_sale(
            session,
            store_id,
            {
                "type": "order.paid",
                "order_id": f"TM-{seed}-{index}",
                "occurred_at": (made[-1].at + timedelta(minutes=index)).isoformat(),
                "amount": 25_900 + 4_000 * index,
                "currency": "CNY",
                **touch,
            },
        )
    conversions.record_demo_sale(
        session,
        store_id,
        {
            "type": "order.refunded",
            "order_id": f"TM-{seed}-1",
            "refund_id": f"RF-{seed}",
            "amount": 29_900,
            "occurred_at": (made[-1].at + timedelta(minutes=30)).isoformat(),
        },
    )


def _seeding_brief() -> campaign_schemas.CampaignCreate:
    return campaign_schemas.CampaignCreate.model_validate(
        {
            "name": "Spring Glow Serum seeding 春季精华种草",
            "description": "Honest first impressions of our new hydrating serum.",
            "objective": "awareness",
            "campaign_type": "product_seeding",
            "product": {
                "name": "Glow Hydrating Serum",
                "url": "https://dandelion.example/glow",
                "value_amount": 29_900,
                "ships_physical_product": True,
            },
            "key_messages": ["72-hour hydration", "fragrance free"],
            "dos": ["show the texture", "mention the 品牌合作 label"],
            "donts": ["no medical or whitening claims", "no 最 / 第一 superlatives"],
            "formats": ["image_post", "short_video"],
            "platforms": ["xiaohongshu"],
            "categories": ["skincare", "beauty"],
            "target_audience": {
                "genders": ["female"],
                "age_bands": ["18-24", "25-34"],
                "regions": ["CN-31", "CN-44"],
                "interests": ["skincare"],
            },
            "creator_criteria": {"tiers": ["nano", "koc", "mid"]},
            "currency": "CNY",
            "budget_amount": 20_000_000,
            "compensation_model": "fixed_plus_bonus",
            "compensation": {"fixed_fee_amount": 400_000, "bonus_cap_amount": 100_000},
            "kpis": [{"metric": "views", "target": 15_000}, {"metric": "saves", "target": 400}],
            "timeline": {
                "draft_due_days": 7,
                "review_days": 3,
                "publish_due_days": 7,
                "measurement_days": 7,
                "revision_limit": 2,
            },
        }
    )


def _live_brief() -> campaign_schemas.CampaignCreate:
    return campaign_schemas.CampaignCreate.model_validate(
        {
            "name": "Summer sunscreen live session",
            "objective": "conversion",
            "campaign_type": "live_streaming",
            "visibility": "invite_only",
            "product": {"name": "Daily UV Shield SPF50"},
            "formats": ["live_stream"],
            "currency": "CNY",
            "budget_amount": 5_000_000,
            "compensation_model": "fixed_fee",
        }
    )


def _draft_brief() -> campaign_schemas.CampaignCreate:
    return campaign_schemas.CampaignCreate.model_validate(
        {
            "name": "Autumn lip tint ambassador (draft)",
            "objective": "education",
            "campaign_type": "ambassador",
            "product": {"name": "Velvet lip tint"},
            "formats": ["short_video"],
            "currency": "CNY",
            "budget_amount": 8_000_000,
        }
    )


# -- the demo creators' social accounts on the sandbox platform -----------------------------


def _closest_genuine_account(spec: WorldSpec, followers: int, taken: set[int]) -> int:
    """The sandbox account without fraud whose follower count is closest (by ratio)."""
    best, best_distance = -1, float("inf")
    for index in range(spec.accounts):
        if index in taken:
            continue
        candidate = sandbox_world.account(spec, index)
        if candidate.fraud or candidate.followers < 1_000:
            continue
        distance = abs(math.log(candidate.followers / followers))
        if distance < best_distance:
            best, best_distance = index, distance
    if best < 0:
        raise RuntimeError("the sandbox world has no genuine account left to link")
    return best


def link_demo_creators(
    url: str, spec: WorldSpec, progress: Callable[[int], None] = lambda _: None
) -> list[tuple[str, str]]:
    """Link every demo creator to a sandbox account of about their size the way a creator
    would (Pappus starts the OAuth flow, the creator signs in on the sandbox's consent page
    and allows, the platform redirects back), then sync it. The sandbox must be serving at
    PAPPUS_SANDBOX_URL. Returns (creator email, sandbox handle) pairs."""
    db = Database(url)
    taken: set[int] = set()
    linked = []
    try:
        for number, creator in enumerate(CREATORS, start=1):
            email = f"creator{number}@demo.pappus.dev"
            index = _closest_genuine_account(spec, int(creator["followers"]), taken)
            taken.add(index)
            handle = sandbox_world.account(spec, index).handle
            with db.unit_of_work() as session:
                principal = accounts.principal_for_user(
                    session, accounts.get_user_by_email(session, email)
                )
                started = social.start_link(session, principal, "sandbox")
            code, state = consent.allow(started.authorization_url, handle)
            account = social.complete_link(db, "sandbox", state, code, None)
            social.sync_account(db, account.id)
            linked.append((email, handle))
            progress(1)
    finally:
        db.dispose()
    return linked


def _sandbox_brief() -> campaign_schemas.CampaignCreate:
    return campaign_schemas.CampaignCreate.model_validate(
        {
            "name": "Glow serum on the sandbox platform (verified publication)",
            "objective": "awareness",
            "campaign_type": "branded_content",
            "product": {"name": "Glow serum"},
            "formats": ["image_post"],
            "platforms": ["sandbox"],
            "currency": "CNY",
            "budget_amount": 2_000_000,
        }
    )


VERIFIED_TITLE = "Glow serum: 14 days on the sandbox"
VERIFIED_BODY = (
    "Two weeks with the Glow serum, morning and night: light texture, no stickiness, and my"
    " skin felt calmer by the second week. 两周的使用感受：质地清爽，不黏腻。"  # noqa: RUF001
)
VERIFIED_TAGS = ["GlowSerum", "skincare"]


def publish_verified_demo_order(url: str, spec: WorldSpec, creator_number: int = 1) -> str:
    """One order whose post was published on the sandbox platform's creator app and verified
    through the connector (orders/publishing.py): a campaign on the `sandbox` platform, an
    approved draft, the post with its label, then the publication. Returns the order id."""
    db = Database(url)
    email = f"creator{creator_number}@demo.pappus.dev"
    try:
        with db.unit_of_work() as session:
            owner = accounts.principal_for_user(
                session, accounts.get_user_by_email(session, "brand@demo.pappus.dev")
            )
            creator = accounts.principal_for_user(
                session, accounts.get_user_by_email(session, email)
            )
            campaign = campaigns.create_campaign(session, owner, _sandbox_brief())
            campaigns.change_status(session, owner, campaign.id, "open")
            application = campaigns.apply(
                session,
                creator,
                campaign.id,
                campaign_schemas.ApplicationCreate(
                    proposal="One image post, published on the sandbox.",
                    quote_amount=200_000,
                    currency="CNY",
                ),
            )
            _, order = campaigns.accept_application(session, owner, application.id, None)
            draft = orders.submit_draft(
                session,
                creator,
                order.id,
                order_schemas.DraftCreate(
                    title=VERIFIED_TITLE, body=VERIFIED_BODY, hashtags=VERIFIED_TAGS
                ),
            )
            orders.approve_draft(session, owner, order.id, draft.id, "Approved, publish away.")
            order_id = order.id
            handle = social.active_accounts(session, str(creator.creator_id), "sandbox")[0].handle
        # the creator publishes in the platform's own app, with its brand-partnership label
        post = consent.publish_post(
            get_settings().sandbox_url,
            handle,
            {
                "title": VERIFIED_TITLE,
                "text": VERIFIED_BODY + " #GlowSerum #skincare",
                "hashtags": VERIFIED_TAGS,
                "partnership_label": True,
                "brand": "Dandelion Skincare",
            },
        )
        publishing.publish(
            db,
            creator,
            order_id,
            order_schemas.PublicationCreate(post_url=str(post["url"]), platform="sandbox"),
        )
        # Its comments, read back through the connector and classified for sentiment.
        from pappus.analytics.comments import sync_comments

        sync_comments(db, order_id)
        return order_id
    finally:
        db.dispose()
