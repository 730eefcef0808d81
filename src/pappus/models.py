"""Import every domain's models so metadata (Alembic, tests) sees all tables."""

from __future__ import annotations


def import_all_models() -> None:
    import pappus.accounts.models
    import pappus.analytics.models
    import pappus.audit.models
    import pappus.campaigns.models
    import pappus.compliance.models
    import pappus.connectors.models
    import pappus.creators.models
    import pappus.kit.idempotency
    import pappus.ledger.models
    import pappus.messaging.models
    import pappus.orders.models
    import pappus.vetting.models  # noqa: F401
