"""The command line: the README's demo, and argument checking."""

from __future__ import annotations

from typing import Any

import pytest

from shipstation_async import RateLimit
from shipstation_async.cli import build_parser, main


def test_demo_pages_through_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--orders", "600", "--page-size", "25", "--rate-limit", "10/1"]) == 0
    out = capsys.readouterr().out
    assert "fetched 600 orders (600 unique) in 24 pages" in out
    assert "429s: 0" in out
    assert "accepted in any 1 s: 10 (limit 10)" in out
    assert out.strip().endswith("OK")


def test_arguments_are_checked() -> None:
    parser = build_parser()
    assert parser.parse_args(["demo", "--rate-limit", "40/60"]).rate_limit == RateLimit(40, 60.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--rate-limit", "forty"])
    args = parser.parse_args(["sandbox", "serve", "--end", "2026-01-01T00:00:00-08:00"])
    assert args.end.utcoffset() is not None
    # The same options as `python -m shipstation_async.sandbox`: a naive end is Pacific time.
    args = parser.parse_args(["sandbox", "serve", "--end", "2026-01-01T00:00", "--dense", "5:600"])
    assert (args.end.tzinfo, args.dense) == (None, [(5, 600)])
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "serve", "--end", "New Year"])
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "serve", "--error-rate", "1.5"])


def test_backfill_command_against_the_sandbox(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    from pathlib import Path

    out = Path(str(tmp_path)) / "orders.jsonl"
    args = ["backfill", "orders", "--sandbox", "--sandbox-orders", "2000", "--out", str(out)]
    assert main(args) == 0
    ids = [json.loads(line)["orderId"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 2000
    assert "2000 orders in" in capsys.readouterr().out
    assert main(args) == 2  # refuses to overwrite without --resume
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0  # a finished run resumes to nothing more
    assert "already complete" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 2000
    # --resume with nothing to resume starts a run (the README's first command, run once).
    fresh = Path(str(tmp_path)) / "fresh.jsonl"
    assert main([*args[:-1], str(fresh), "--resume"]) == 0
    assert len(fresh.read_text().splitlines()) == 2000


def test_backfill_command_into_sqlite(tmp_path: pytest.TempPathFactory) -> None:
    import sqlite3
    from pathlib import Path

    database = Path(str(tmp_path)) / "orders.db"
    args = [
        "backfill",
        "orders",
        "--sandbox",
        "--sandbox-orders",
        "1500",
        "--sqlite",
        str(database),
    ]
    assert main(args) == 0
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(DISTINCT id) FROM orders").fetchone()[0] == 1500


def test_since_last_is_for_orders(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backfill", "shipments", "--since-last", "--sandbox"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("shipstation-async: error:") and "only the orders list" in err


def test_a_file_no_checkpoint_accounts_for_is_never_overwritten(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    precious = Path(str(tmp_path)) / "precious.jsonl"
    precious.write_text("".join(f'{{"mine": {n}}}\n' for n in range(1000)))
    before = precious.read_bytes()
    args = ["backfill", "orders", "--sandbox", "--sandbox-orders", "100", "--out", str(precious)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no backfill checkpoint accounts for" in err and "--resume" not in err
    assert main([*args, "--resume"]) == 2  # --resume does not make it ours either
    assert precious.read_bytes() == before
    assert not Path(f"{precious}.checkpoint.sqlite").exists()


async def test_a_backfill_from_code_leaves_a_file_it_did_not_write_alone(
    tmp_path: pytest.TempPathFactory,
) -> None:
    from pathlib import Path

    from shipstation_async import ConfigurationError, ShipStation
    from shipstation_async.backfill import Backfill

    precious = Path(str(tmp_path)) / "mine.jsonl"
    precious.write_text('{"mine": 1}\n')
    async with ShipStation("k", "s", base_url="http://127.0.0.1:9") as ss:
        for resume in (True, False):
            with pytest.raises(ConfigurationError, match="left untouched"):
                await Backfill(ss, "orders", sink=precious, resume=resume).run()
        assert ss.rate_limit_status().total_sent == 0
    assert precious.read_text() == '{"mine": 1}\n'


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sandbox", "serve", "--port", "99999"], "a port is 0 to 65535"),
        (["sandbox", "serve", "--orders", "-1"], "expected 0 or more"),
        (["backfill", "orders", "--concurrency", "0"], "expected 1 or more"),
        (["demo", "--page-size", "501"], "a page holds 1 to 500 records"),
        (["demo", "--page-size", "0"], "expected 1 or more"),
        (["backfill", "orders", "--start", "2024-13-01"], "--start"),
        # Before, tracebacks and exit status 1 (an OverflowError from the walk, or from bind).
        (["backfill", "orders", "--sandbox", "--start", "0001-01-01"], "a year from 1900"),
        (["webhooks", "listen", "--port", "99999"], "a port is 0 to 65535"),
    ],
)
def test_bad_arguments_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["backfill", "orders", "--sandbox", "--out", ""], "--out needs a file name"),
        (["backfill", "orders", "--sandbox", "--sqlite", " "], "--sqlite needs a file name"),
        (["backfill", "orders", "--sandbox", "--start", "2999-01-01"], "start (2999-01-01"),
        (["webhooks", "listen", "--sandbox", "--path", "noslash"], "--path must start with /"),
        (["webhooks", "listen", "--sandbox", "--events", "BOGUS"], "--events takes"),
        (["webhooks", "listen", "--sandbox", "--host", ""], "--host must name an address"),
    ],
)
def test_options_that_cannot_work_exit_2_before_anything_starts(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pytest.TempPathFactory,
) -> None:
    # Before: a file named after the resource instead of the empty name, 0 records for a
    # start in the future, and exit status 1 with a traceback once a sandbox had started.
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("SHIPSTATION_WEBHOOK_TOKEN", "t" * 32)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_end_before_the_start_is_refused_by_flag_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["backfill", "orders", "--sandbox", "--start", "2024-02-01", "--end", "2024-01-01"]
    assert main(argv) == 2
    assert "--end (2024-01-01 00:00:00-08:00) is before --start" in capsys.readouterr().err


def test_a_port_in_use_is_one_line_and_no_banner(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "serve", "--port", str(port)]) == 1
    captured = capsys.readouterr()
    assert "ShipStation sandbox on" not in captured.out
    assert captured.err.startswith("shipstation-async: error:")


def _status(**fields: Any) -> Any:
    from types import SimpleNamespace

    budget = {"limit": 40, "period": 60.0, "margin": 0.6, "remaining": 10, "in_flight": 0}
    return SimpleNamespace(**{"next_slot_in": None, "sent_in_window": 30, **budget, **fields})


def test_the_eta_rests_on_the_budget() -> None:
    # 40 per 60 s (+0.6 s margin): a request takes the slot of the one 40 before it once that
    # one has been answered a window ago.
    from shipstation_async._cli_progress import budget_wait

    window = 60.6
    start = [(0.5, 5)]  # a fresh process: five sent, 35 slots never used
    assert budget_wait(start, 0, 40, window) == 0
    assert budget_wait(start, 35, 40, window) == 0
    assert budget_wait(start, 36, 40, window) == pytest.approx(window)  # the 1st's slot
    assert budget_wait(start, 35 + 40, 40, window) == pytest.approx(window)
    assert budget_wait(start, 35 + 41, 40, window) == pytest.approx(2 * window)
    # Sent at 1 s apart: the slots free 1 s apart a window later, not all at its end.
    steady = [(float(t), t) for t in range(1, 41)]
    assert budget_wait(steady, 1, 40, window) == pytest.approx(1 + window - 40)
    assert budget_wait(steady, 10, 40, window) == pytest.approx(10 + window - 40)


def test_the_eta_of_a_run_past_its_last_window_is_the_pace_of_its_answers() -> None:
    # A run of 105 requests at 40 per 60 s: 40 went at the start, 40 a window later. When the
    # third window opens, the 25 left fit in it: the budget alone said 0 s (and a whole window
    # before); they take what the answers take.
    from shipstation_async._cli_progress import eta, recent_pace

    first = [(0.25 * n, n) for n in range(1, 41)]
    second = [(60.6 + 0.25 * n, 40 + n) for n in range(1, 41)]
    history = [*first, *second]
    status = _status(remaining=0, in_flight=0)
    # At the end of the second window, the 25th waits for the slot of the 65th, sent 66.85 s in.
    assert eta(25, status, history) == pytest.approx(66.85 + 60.6 - 70.6)
    third = [*history, (127.5, 81), (127.75, 82), (128.0, 83)]  # every slot free again
    assert recent_pace(third[-8:]) == pytest.approx(0.25)
    assert eta(22, _status(remaining=37, in_flight=0), third) == pytest.approx(22 * 0.25)
    assert recent_pace([(1.0, 5)]) is None and recent_pace([(1.0, 5), (2.0, 6)]) is None
    # A step that waited 30 s for the budget is not the pace of the answers.
    assert recent_pace([(0.0, 0), (0.5, 1), (1.0, 2), (31.0, 3), (31.5, 4)]) == 0.5
    # Requests in flight hold their slots already.
    assert eta(4, _status(in_flight=4), [(70.0, 80)]) == 0


def test_the_progress_figures_of_a_resumed_run() -> None:
    # The report's figures: 17,518 of 50,000 written (most by the run resumed) is 35 %.
    from shipstation_async._cli_progress import describe, duration, figures
    from shipstation_async.backfill import Progress

    def report(records: int, left: int | None, requests_left: int | None) -> Progress:
        return Progress(
            records=records,
            records_this_run=records - 17_000,
            requests=3,
            parts_done=0,
            parts=4,
            elapsed=1.0,
            pages=1,
            records_left=left,
            requests_left=requests_left,
        )

    status = _status(remaining=0)
    history = [(float(t), t) for t in range(1, 41)]  # one a second until now, 40 s in
    shown = figures(report(17_518, 32_482, 66), status, history)
    assert (shown.total, shown.percent) == (50_000, 35)
    # The 40 first take the slots of the 40 sent, the 26 others those of the first 26 of them.
    assert shown.eta == pytest.approx(26 + 2 * 60.6 - 40)
    assert figures(report(44_051, 5_949, 12), status).percent == 88
    assert figures(report(49_999, 1, 1), status).percent == 99  # 100 only when done
    assert figures(report(50_000, 0, 0), status).percent == 100
    unknown = figures(report(17_518, None, None), status)
    assert (unknown.total, unknown.percent, unknown.eta) == (None, None, None)
    text = describe(report(17_518, 32_482, 66), status, shown)
    assert text.startswith("17,518 of ~50,000 · 1 pages · 3 req · budget 30/40 per 60s")
    assert text.endswith("ETA 1m47s")
    shown_as = [duration(s) for s in (0.4, 99, 100, 5999, 6000)]
    assert shown_as == ["0s", "99s", "1m40s", "99m59s", "1h40m"]


def test_errors_are_one_line_and_failed_first_runs_do_not_block(
    tmp_path: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathlib import Path

    monkeypatch.delenv("SHIPSTATION_API_KEY", raising=False)
    monkeypatch.delenv("SHIPSTATION_API_SECRET", raising=False)
    out = Path(str(tmp_path)) / "orders.jsonl"
    assert main(["backfill", "orders", "--out", str(out)]) == 2  # a usage error: nothing sent
    err = capsys.readouterr().err
    assert err.startswith("shipstation-async: error:") and "SHIPSTATION_API_KEY" in err
    # What a run of an older version that failed before its first batch left behind (an empty
    # output, a checkpoint with its tables and no run) does not count as output, nor pin --start.
    from shipstation_async.backfill.checkpoint import CheckpointStore, checkpoint_beside

    out.touch()
    CheckpointStore(checkpoint_beside(out)).close()
    args = ["backfill", "orders", "--sandbox", "--sandbox-orders", "300", "--out", str(out)]
    assert main([*args, "--start", "2020-01-01"]) == 0
    assert len(out.read_text().splitlines()) == 300


def test_another_database_is_left_alone(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3
    from pathlib import Path

    mine = Path(str(tmp_path)) / "mine.db"
    with sqlite3.connect(mine) as db:
        db.execute("CREATE TABLE ledger (x)")
    before = mine.read_bytes()
    args = ["backfill", "orders", "--sandbox", "--sandbox-orders", "100", "--sqlite", str(mine)]
    assert main(args) == 2  # counts as existing output: refused without --resume
    assert mine.read_bytes() == before  # and only read, not changed
    not_a_database = Path(str(tmp_path)) / "notes.db"
    not_a_database.write_text("hello")
    assert main([*args[:-1], str(not_a_database)]) == 2
    assert main([*args[:-1], str(not_a_database), "--resume"]) == 2  # one line, no traceback
    assert capsys.readouterr().err.startswith("shipstation-async: error:")
    assert not_a_database.read_text() == "hello"


def test_the_backfill_command_is_a_bulk_only_client(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    import shipstation_async.client as client_module

    seen: list[Any] = []

    class Recording(client_module.ShipStation):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.append(kwargs["rate_limit"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(client_module, "ShipStation", Recording)
    out = Path(str(tmp_path)) / "orders.jsonl"
    args = ["backfill", "orders", "--sandbox", "--sandbox-orders", "100", "--out", str(out)]
    assert main([*args, "--rate-limit", "40/2"]) == 0
    assert [(r.requests, r.period, r.reserve) for r in seen] == [(40, 2.0, 0)]


def test_a_backfill_copies_inactive_products_and_shipment_items(
    shipstation_sandbox_factory: Any,
    tmp_path: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The API leaves inactive products and shipments' items out unless asked: a copy asks,
    # unless told not to.
    import json
    from pathlib import Path

    sandbox = shipstation_sandbox_factory(orders=200, seed=2, rate_limit=RateLimit(40, 1.0))
    for n in range(3):
        sandbox.world.add_product(
            sku=f"RETIRED-{n}", active=False, createDate="2024-01-01T08:00:00.0000000"
        )
    monkeypatch.setenv("SHIPSTATION_API_KEY", sandbox.api_key)
    monkeypatch.setenv("SHIPSTATION_API_SECRET", sandbox.api_secret)
    monkeypatch.delenv("SHIPSTATION_BASE_URL", raising=False)

    def backfill(resource: str, *options: str) -> list[dict[str, Any]]:
        out = Path(str(tmp_path)) / f"{resource}{''.join(options)}.jsonl"
        argv = ["backfill", resource, "--base-url", sandbox.url, "--rate-limit", "40/1"]
        assert main([*argv, "--out", str(out), *options]) == 0
        return [json.loads(line) for line in out.read_text().splitlines()]

    products = backfill("products")
    inactive = sum(not p["active"] for p in products)
    assert inactive >= 3  # the world's own, and the three retired here
    assert len(backfill("products", "--no-inactive")) == len(products) - inactive
    shipments = backfill("shipments")
    assert shipments and all(s["shipmentItems"] for s in shipments)
    assert all(s["shipmentItems"] is None for s in backfill("shipments", "--no-items"))
    capsys.readouterr()
    assert main(["backfill", "orders", "--sandbox", "--no-items"]) == 2
    assert "--items and --no-items are for shipments" in capsys.readouterr().err
