"""Small shared pieces: ids, clock, pagination, money, idempotency."""
