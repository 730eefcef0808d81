"""A worker that dies mid-operation, for test_ledger_crash.py (run as a script, not collected).

It reads PAPPUS_CRASH_ARGS (JSON: the database `url`, the crash `point`, and what the
operation needs), runs one money operation against that database and SIGKILLs itself at the
crash point, after its writes are flushed and before its transaction commits. Before dying it
prints one line saying how far it got, so the test can tell a crash at the right place from an
earlier failure. Reaching the end alive exits with status 3.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import timedelta
from typing import Any

from pappus.accounts.principal import Principal
from pappus.db import Database
from pappus.kit.clock import clock
from pappus.ledger import book, book_repository, payouts
from pappus.models import import_all_models
from pappus.orders.tasks import sweep_due_timers


def say(line: str) -> None:
    print(line, flush=True)


def die(line: str) -> None:
    say(line)
    os.kill(os.getpid(), signal.SIGKILL)


def request_payout(db: Database, args: dict[str, Any]) -> str:
    principal = Principal(kind="creator", user_id=args["user_id"], creator_id=args["creator_id"])
    with db.unit_of_work() as session:
        payout = payouts.request_payout(
            session, principal, args["amount"], "CNY", args["payout_method_id"]
        )
        payout_id = payout.id
    say(f"payout {payout_id}")
    return payout_id


def kill_after_the_payout_hold() -> None:
    original = book.hold

    def hold_then_die(*a: Any, **k: Any) -> str:
        transfer_id = original(*a, **k)  # the hold's rows are written
        amount = a[5] if len(a) > 5 else k["amount"]
        die(f"held {amount}, not committed")
        return transfer_id

    book.hold = hold_then_die  # type: ignore[assignment]


def kill_after_the_provider_answers() -> None:
    original = payouts.sandbox_pay

    def pay_then_die(payout_id: str, amount: int) -> tuple[bool, str]:
        answer = original(payout_id, amount)
        die(f"provider answered {answer}")
        return answer

    payouts.sandbox_pay = pay_then_die  # type: ignore[assignment]


def kill_after_settling_the_payout() -> None:
    original = payouts.settle_payout

    def settle_then_die(session: Any, payout_id: str) -> str:
        status = original(session, payout_id)
        session.flush()
        die(f"payout {status}, not committed")
        return status

    payouts.settle_payout = settle_then_die  # type: ignore[assignment]


def kill_after_the_release_legs() -> None:
    original = book.post_pending

    def post_then_die(*a: Any, **k: Any) -> Any:
        transaction_id = original(*a, **k)  # writes the resolution and every leg
        reference = a[2] if len(a) > 2 else k["reference"]
        die(f"released {reference}, not committed")
        return transaction_id

    book.post_pending = post_then_die  # type: ignore[assignment]


def kill_between_the_release_and_its_legs() -> None:
    original = book_repository.write_transaction

    def write_then_maybe_die(
        session: Any,
        transaction: dict[str, Any],
        accounts: Any,
        rows: list[dict[str, Any]],
        **options: Any,
    ) -> str:
        resolutions = [row for row in rows if row["kind"] == "post_pending"]
        if resolutions and len(rows) > len(resolutions):
            # the transaction, the balances and the hold's resolution only, then the crash
            original(session, transaction, accounts, resolutions, **options)
            die("hold posted, legs to creator and platform not written")
        return original(session, transaction, accounts, rows, **options)

    book_repository.write_transaction = write_then_maybe_die  # type: ignore[assignment]


def main() -> None:
    args = json.loads(os.environ["PAPPUS_CRASH_ARGS"])
    import_all_models()
    clock.advance(timedelta(seconds=args.get("clock_offset_seconds", 0)))
    db = Database(args["url"])
    point = args["point"]
    if point == "payout_request_after_hold":
        kill_after_the_payout_hold()
        request_payout(db, args)
    elif point in ("payout_after_provider", "payout_before_commit"):
        payout_id = request_payout(db, args)
        if point == "payout_after_provider":
            kill_after_the_provider_answers()
        else:
            kill_after_settling_the_payout()
        payouts.process_payout(db, payout_id)
    elif point in ("release_after_legs", "release_before_legs"):
        if point == "release_after_legs":
            kill_after_the_release_legs()
        else:
            kill_between_the_release_and_its_legs()
        sweep_due_timers(db)
    else:
        raise SystemExit(f"unknown crash point {point}")
    say("survived the crash point")
    sys.exit(3)


if __name__ == "__main__":
    main()
