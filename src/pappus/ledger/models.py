"""The ledger domain's tables: the double-entry book, deposits and platform secrets."""

from pappus.ledger.book_models import LedgerAccount, LedgerTransaction, LedgerTransfer
from pappus.ledger.payment_models import Deposit, Payout, PayoutMethod, PlatformSecret

__all__ = [
    "Deposit",
    "LedgerAccount",
    "LedgerTransaction",
    "LedgerTransfer",
    "Payout",
    "PayoutMethod",
    "PlatformSecret",
]
