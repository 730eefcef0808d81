"""An order's dossier: one ZIP with everything a regulator or a dispute needs.

contract.json (the frozen contract and its sha256), order.json, drafts.json and drafts.csv (with
each compliance check and any staff override), publication.json (the connector's checks),
metrics.csv, money.csv (every ledger transfer of the order), disputes.json, events.json (the
order's own hash chain and whether it verifies), audit.json and audit.csv (the platform trail's
entries about the order and its money), summary.html for a person, and manifest.json with the
sha256 of every other file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from pappus.accounts.principal import Principal
from pappus.audit import service as audit
from pappus.kit.clock import now
from pappus.ledger import service as ledger
from pappus.orders import repository as repo
from pappus.orders import service


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("pappus.orders", "templates"),
        autoescape=select_autoescape(["html"]),
    )


def _plain(value: Any) -> Any:
    """JSON-ready: datetimes as ISO 8601, everything else as it is."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _row(obj: Any, columns: list[str]) -> dict[str, Any]:
    return {c: _plain(getattr(obj, c)) for c in columns}


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row[c]) for c in columns})
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _json(value: Any) -> bytes:
    return json.dumps(_plain(value), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


DRAFT_COLUMNS = [
    "id", "round", "title", "body", "hashtags", "status", "deemed", "feedback", "submitted_at",
    "reviewed_at", "reviewed_by", "compliance", "compliance_override",
]  # fmt: skip
METRIC_COLUMNS = [
    "taken_at", "source", "views", "likes", "comments", "saves", "shares", "clicks",
    "conversions", "recorded_by", "created_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "sequence", "action", "from_state", "to_state", "actor_kind", "actor_id", "data",
    "created_at", "prev_hash", "hash",
]  # fmt: skip
DISPUTE_COLUMNS = [
    "id", "opened_by_kind", "opened_by_id", "reason", "state_before", "status", "resolution",
    "creator_share_bp", "resolution_note", "resolved_by", "resolved_at", "created_at",
]  # fmt: skip
PUBLICATION_COLUMNS = [
    "post_url", "platform", "published_at", "submitted_at", "verification_status",
    "verification", "external_post_id", "post_status", "last_checked_at",
]  # fmt: skip
MONEY_COLUMNS = [
    "created_at", "transaction_id", "transaction_kind", "reference", "transfer_id",
    "transfer_kind", "debit_purpose", "debit_owner", "credit_purpose", "credit_owner", "amount",
    "currency", "memo",
]  # fmt: skip
AUDIT_COLUMNS = [
    "id", "sequence", "at", "actor_kind", "actor_id", "action", "subject_kind", "subject_id",
    "data", "prev_hash", "hash",
]  # fmt: skip


def build(session: Session, principal: Principal, order_id: str) -> bytes:
    """The order's dossier as ZIP bytes (anyone who may see the order)."""
    order = service.get_order(session, principal, order_id)
    view = service.order_view(session, principal, order).model_dump(mode="json")
    drafts = [_row(d, DRAFT_COLUMNS) for d in repo.all_drafts(session, order.id)]
    publication = repo.publication(session, order.id)
    metrics = [_row(m, METRIC_COLUMNS) for m in repo.snapshots_until(session, order.id, None)]
    events = [_row(e, EVENT_COLUMNS) for e in repo.all_events(session, order.id)]
    disputes = [_row(d, DISPUTE_COLUMNS) for d in repo.all_disputes(session, order.id)]
    money = [_plain(m) for m in ledger.order_money_movements(session, order.id)]
    transactions = sorted({m["transaction_id"] for m in money})
    subjects = [("order", order.id), *(("ledger_transaction", t) for t in transactions)]
    trail = [_row(a, AUDIT_COLUMNS) for a in audit.entries_about(session, subjects)]
    chain_ok = service.verify_event_chain(session, order.id)
    contract = {"contract": order.contract, "contract_sha256": order.contract_sha256}
    exported_at = now().isoformat()
    html = (
        _templates()
        .get_template("dossier.html")
        .render(
            order=view,
            contract=order.contract,
            money=order.contract["money"],
            drafts=drafts,
            publication=_row(publication, PUBLICATION_COLUMNS) if publication else None,
            metrics=metrics,
            money_movements=money,
            disputes=disputes,
            events=events,
            audit=trail,
            events_chain_ok=chain_ok,
            exported_at=exported_at,
            exported_by=principal.actor_id,
        )
    )
    files: dict[str, bytes] = {
        "summary.html": html.encode("utf-8"),
        "contract.json": _json(contract),
        "order.json": _json(view),
        "drafts.json": _json(drafts),
        "drafts.csv": _csv(drafts, DRAFT_COLUMNS),
        "publication.json": _json(_row(publication, PUBLICATION_COLUMNS) if publication else None),
        "metrics.csv": _csv(metrics, METRIC_COLUMNS),
        "money.csv": _csv(money, MONEY_COLUMNS),
        "disputes.json": _json(disputes),
        "events.json": _json({"chain_intact": chain_ok, "events": events}),
        "audit.json": _json(trail),
        "audit.csv": _csv(trail, AUDIT_COLUMNS),
    }
    manifest = {
        "order_id": order.id,
        "exported_at": exported_at,
        "exported_by": principal.actor_id,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in {**files, "manifest.json": _json(manifest)}.items():
            archive.writestr(f"order-{order.id}/{name}", data)
    return buffer.getvalue()
