#!/usr/bin/env python3
"""A TCP relay that adds round-trip time, for benchmarks on a kernel without netem.

    relay.py --delay-ms 50 --stats FILE [LISTEN_IP:]LISTEN_PORT=TARGET_HOST:TARGET_PORT [...]

Each listen address (127.0.0.1 unless given) forwards to its target; every chunk is held for half the delay in
each direction, in order, so a request/answer exchange costs the full delay more. The stats file
gets one line per closed connection: `PORT turns=N up=BYTES down=BYTES`, where a turn is a burst
of client bytes sent after the server last spoke: what a client waits a round trip for.
"""
import argparse
import asyncio
import os
import signal
import sys
import time


class Direction:
    """One direction of one connection: chunks queued with the time they may be sent."""

    def __init__(self, reader, writer, delay):
        self.reader, self.writer, self.delay = reader, writer, delay
        self.queue = asyncio.Queue()
        self.bytes = 0

    async def read(self, on_chunk):
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.bytes += len(data)
                on_chunk(len(data))
                await self.queue.put((time.monotonic() + self.delay, data))
        except (ConnectionError, OSError):
            pass
        await self.queue.put((time.monotonic() + self.delay, None))

    async def write(self):
        try:
            while True:
                at, data = await self.queue.get()
                wait = at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()
                    break
                self.writer.write(data)
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass


async def relay(client_reader, client_writer, target, delay, port, stats):
    try:
        server_reader, server_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    up = Direction(client_reader, server_writer, delay / 2)
    down = Direction(server_reader, client_writer, delay / 2)
    state = {"turns": 0, "last": "down"}

    trace = os.environ.get("RELAY_TRACE")
    t0 = time.monotonic()

    def note(direction, size):
        if trace:
            with open(trace, "a") as f:
                f.write(f"{port} {time.monotonic() - t0:8.3f} {direction} {size} turns={state['turns']}\n")

    def client_spoke(size):
        if state["last"] == "down":
            state["turns"] += 1
        state["last"] = "up"
        note("up", size)

    def server_spoke(size):
        state["last"] = "down"
        note("down", size)

    await asyncio.gather(up.read(client_spoke), up.write(), down.read(server_spoke), down.write())
    for w in (client_writer, server_writer):
        w.close()
    with open(stats, "a") as f:
        f.write(f"{port} turns={state['turns']} up={up.bytes} down={down.bytes}\n")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--stats", default="/dev/null")
    parser.add_argument("routes", nargs="+")
    args = parser.parse_args()
    delay = args.delay_ms / 1000
    servers = []
    for route in args.routes:
        listen, target = route.split("=", 1)
        ip, port = listen.rsplit(":", 1) if ":" in listen else ("127.0.0.1", listen)
        host, tport = target.rsplit(":", 1)
        handler = (lambda p, t: lambda r, w: relay(r, w, t, delay, p, args.stats))(listen, (host, int(tport)))
        servers.append(await asyncio.start_server(handler, ip, int(port)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
