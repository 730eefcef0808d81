"""`Database.snapshot`: a reading transaction that keeps seeing the moment of its first query."""

from __future__ import annotations

from sqlalchemy import text

from pappus.db import Database


def test_a_snapshot_does_not_see_what_commits_after_its_first_query(db: Database) -> None:
    with db.unit_of_work() as session:
        session.execute(
            text(
                "INSERT INTO ledger_accounts (id, owner_kind, owner_id, purpose, currency, "
                "debits_must_not_exceed_credits, debits_pending, debits_posted, "
                "credits_pending, credits_posted, created_at) VALUES ('acc_snap', 'platform', "
                "'p', 'platform_revenue', 'CNY', false, 0, 0, 0, 5, CURRENT_TIMESTAMP)"
            )
        )
    balance = text("SELECT credits_posted FROM ledger_accounts WHERE id = 'acc_snap'")
    count = text("SELECT count(*) FROM ledger_accounts")
    with db.snapshot() as snapshot:
        assert snapshot.scalar(balance) == 5
        with db.unit_of_work() as other:
            other.execute(
                text("UPDATE ledger_accounts SET credits_posted = 7 WHERE id = 'acc_snap'")
            )
        assert snapshot.scalar(balance) == 5
        assert snapshot.scalar(count) == 1
    with db.unit_of_work(write=False) as after:
        assert after.scalar(balance) == 7
    # and a plain reading transaction, for contrast, does see it on PostgreSQL (READ
    # COMMITTED); the connection the snapshot used is back to that level
    with db.unit_of_work(write=False) as reading:
        assert reading.scalar(balance) == 7
        with db.unit_of_work() as other:
            other.execute(
                text("UPDATE ledger_accounts SET credits_posted = 9 WHERE id = 'acc_snap'")
            )
        assert reading.scalar(balance) == (7 if db.is_sqlite else 9)
