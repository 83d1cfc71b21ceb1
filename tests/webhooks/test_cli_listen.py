"""``shipstation-async webhooks listen`` against its embedded sandbox, in a process of its own."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

TOKEN = "cli-token-0123456789abcdef"


def test_listen_writes_each_version_once_and_never_the_token(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    env = {
        **os.environ,
        "SHIPSTATION_WEBHOOK_TOKEN": TOKEN,
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    command = [sys.executable, "-m", "shipstation_async", "webhooks", "listen", "--sandbox"]
    # Port 0: any free one; the line it prints (and the URL it subscribes) names the bound one.
    command += ["--port", "0", "--poll-interval", "1", "--rate-limit", "40/2"]
    command += ["--out", str(out)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lines = out.read_text().splitlines() if out.exists() else []
            if len(lines) >= 20 and {json.loads(line)["kind"] for line in lines} >= {
                "order",
                "shipment",
            }:
                break
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 130  # interrupted: the exit status every command gives Ctrl-C
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = {row["kind"] for row in rows}
    assert kinds >= {"order", "shipment"}, output
    versions = [
        (
            row["kind"],
            row["record"].get("orderId") or row["record"].get("shipmentId"),
            row["record"].get("modifyDate"),
            row["record"].get("voided"),
        )
        for row in rows
    ]
    assert len(versions) == len(set(versions))
    listening = re.search(r"listening on http://127\.0\.0\.1:(\d+)/shipstation/events", output)
    assert listening is not None and int(listening[1]) > 0, output
    assert TOKEN not in output and TOKEN not in out.read_text()
