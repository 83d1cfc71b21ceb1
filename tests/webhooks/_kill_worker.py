"""A receiver process for the crash test: ``accept`` takes a delivery and hangs in the
handler; ``resume`` restarts on the same store and writes what its handler got."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from shipstation_async import RateLimit, ShipStation
from shipstation_async.webhooks import Notification, SQLiteStore, WebhookReceiver

TOKEN = "tok-0123456789abcdefghij"


def _append(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line)


async def main(mode: str, url: str, key: str, secret: str, store: str, out: str) -> None:
    async with ShipStation(key, secret, base_url=url, rate_limit=RateLimit(1000, 1.0)) as ss:
        receiver = WebhookReceiver(ss, token=TOKEN, store=SQLiteStore(store), poll_interval=None)

        @receiver.on("ORDER_NOTIFY", name="sink")
        async def sink(notification: Notification) -> None:
            if mode == "accept":
                print("handler-started", flush=True)
                await asyncio.sleep(3600)
            line = json.dumps([o.order_id for o in notification.orders]) + "\n"
            await asyncio.to_thread(_append, Path(out), line)

        if mode == "accept":
            body = sys.stdin.readline().encode()
            status, _, _ = await receiver.handle("POST", f"/?token={TOKEN}", {}, body)
            print(f"answered {status}", flush=True)
            await asyncio.sleep(3600)
        else:
            await receiver.start()
            await asyncio.wait_for(receiver.drain(), 30)
            await receiver.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
