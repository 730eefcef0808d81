"""Tracking links and their clicks, coupons, stores and the conversions they report, and the
rollups that keep reports fast however many raw events there are."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class TrackingLink(Base):
    """A short redirect `/r/{code}` of one order to one destination."""

    __tablename__ = "tracking_links"
    __table_args__ = (UniqueConstraint("order_id", "destination_url"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("lnk"))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(String(40), index=True)
    organization_id: Mapped[str] = mapped_column(String(40), index=True)
    destination_url: Mapped[str] = mapped_column(String(2048))
    # The destination with the UTM parameters added: where the redirect sends people.
    target_url: Mapped[str] = mapped_column(String(2600))
    label: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Click(Base):
    """One request to a tracking link; kept raw, with the verdicts that reports filter on.

    No foreign keys: clicks are written in batches by the redirect's buffer, and the link's
    ids are copied so reports never join back to the links."""

    __tablename__ = "clicks"
    __table_args__ = (
        Index("ix_clicks_order_id_at", "order_id", "at"),
        Index("ix_clicks_campaign_id_at", "campaign_id", "at"),
    )

    # Made at redirect time and handed to the destination as `pappus_click`, so a store can
    # name the click when it reports a conversion.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    link_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40))
    campaign_id: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    # HMAC of the client address and user agent: repeat visits are recognisable, people not.
    visitor_hash: Mapped[str] = mapped_column(String(32))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    referrer: Mapped[str] = mapped_column(String(500), default="")
    is_bot: Mapped[bool] = mapped_column(default=False)
    is_duplicate: Mapped[bool] = mapped_column(default=False)


class ClickVisit(Base):
    """One row per visitor, link and 30-minute bucket: the first click of a visit inserts it,
    repeats find it taken, whichever process served them."""

    __tablename__ = "click_visits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)


class ClickRollup(Base):
    """Clicks of a link per hour, kept current by every batch of clicks."""

    __tablename__ = "click_rollups"
    __table_args__ = (
        Index("ix_click_rollups_order_id_hour", "order_id", "hour"),
        Index("ix_click_rollups_campaign_id_hour", "campaign_id", "hour"),
    )

    link_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40))
    campaign_id: Mapped[str] = mapped_column(String(40))
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    bot_clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicate_clicks: Mapped[int] = mapped_column(BigInteger, default=0)


class MetricDaily(Base):
    """The last metric snapshot of each order and day, so a time series reads one row a day."""

    __tablename__ = "metric_daily"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime]
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    saves: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cpn"))
    organization_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(String(40), index=True)
    # Upper case: stores and shoppers type codes in any case.
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Store(Base):
    """A brand's shop that reports conversions through the signed webhook."""

    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sto"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # Conversions are reported in it; revenue is compared with spend in the same currency.
    currency: Mapped[str] = mapped_column(String(3))
    # The HMAC secret, encrypted at rest; shown once, when the store is created.
    secret_encrypted: Mapped[str] = mapped_column(String(300))
    attribution_window_days: Mapped[int] = mapped_column(default=7)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Conversion(Base):
    """A store's order, counted once (unique per store) and attributed to at most one order."""

    __tablename__ = "conversions"
    __table_args__ = (
        UniqueConstraint("store_id", "external_order_id"),
        Index("ix_conversions_order_id_occurred_at", "order_id", "occurred_at"),
        Index("ix_conversions_campaign_id_occurred_at", "campaign_id", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cnv"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    organization_id: Mapped[str] = mapped_column(String(40), index=True)
    external_order_id: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # attributed | unattributed | voided (refunded in full or cancelled)
    status: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[str | None] = mapped_column(String(40))
    campaign_id: Mapped[str | None] = mapped_column(String(40))
    attribution: Mapped[str | None] = mapped_column(String(16))  # coupon | click
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    click_id: Mapped[str | None] = mapped_column(String(40))
    # What the store sent, and how each touch was judged: the attribution's evidence.
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    voided_at: Mapped[datetime | None]


class ConversionRefund(Base):
    __tablename__ = "conversion_refunds"
    __table_args__ = (UniqueConstraint("conversion_id", "external_refund_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("crf"))
    conversion_id: Mapped[str] = mapped_column(ForeignKey("conversions.id"), index=True)
    external_refund_id: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    payload_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)


class PostComment(Base):
    """A comment on an order's published post, read through the platform's connector, with
    its sentiment as classified when it was stored."""

    __tablename__ = "post_comments"
    __table_args__ = (
        UniqueConstraint("order_id", "external_id"),
        Index("ix_post_comments_campaign_id", "campaign_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cmt"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    campaign_id: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    # The commenter is kept only as a hash: enough to count people, not to name them.
    author_hash: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime]
    sentiment: Mapped[str] = mapped_column(String(8))
    sentiment_score: Mapped[float]
    model_version: Mapped[str] = mapped_column(String(60))
    fetched_at: Mapped[datetime] = mapped_column(default=now)


class BenchmarkSet(Base):
    """The platform's benchmarks as one computation found them (analytics/tasks.py, every ten
    minutes): every (currency:category, tier) group with its quartiles."""

    __tablename__ = "benchmark_sets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("bms"))
    computed_at: Mapped[datetime] = mapped_column(index=True)
    orders: Mapped[int]
    groups: Mapped[list[Any]] = mapped_column(default=list)


class CommentWord(Base):
    """A distinct content word of a stored comment (analytics/comments.words_of), segmented
    once when the comment is stored, so hot words are a GROUP BY, not a segmentation of every
    comment on every report."""

    __tablename__ = "comment_words"
    __table_args__ = (Index("ix_comment_words_order_id_word", "order_id", "word"),)

    comment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    word: Mapped[str] = mapped_column(String(60), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40))
    sentiment: Mapped[str] = mapped_column(String(8))


# The daily rollup follows every metric snapshot insert (analytics/rollups.py).
import pappus.analytics.rollups  # noqa: E402, F401
