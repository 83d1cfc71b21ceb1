"""Resumable bulk copies of ShipStation records: ``Backfill(ss, "orders", ...).run()``."""

from .checkpoint import BackfillRunning, CheckpointStore, Saved
from .engine import Backfill, Progress, Summary
from .sinks import CallbackSink, JsonlSink, Sink, SqliteSink

__all__ = [
    "Backfill",
    "BackfillRunning",
    "CallbackSink",
    "CheckpointStore",
    "JsonlSink",
    "Progress",
    "Saved",
    "Sink",
    "SqliteSink",
    "Summary",
]
