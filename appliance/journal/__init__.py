"""The legal journal (D-LOG-1..5): hash-chained, daily-sealed segments of connection records,
with indexes for judicial queries, retention, role-checked reading and verifiable exports."""

from appliance.journal.records import KINDS, JournalError, Record
from appliance.journal.store import DEFAULT_ROOT, Journal

__all__ = ["DEFAULT_ROOT", "KINDS", "Journal", "JournalError", "Record"]
