"""The migrations build the schema the models describe, on each backend: a column, an index
or a constraint changed in a model without its migration (or the other way round) fails
here, not on a production database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pappus.models  # noqa: F401  (every domain's tables on the metadata)
from pappus.db import Base, Database


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
