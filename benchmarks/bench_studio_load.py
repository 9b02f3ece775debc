"""How long the studio takes to load on localhost, and how big its bundle is.

A service (SQLite, in a temporary directory) serves the built studio (`make studio`) on
127.0.0.1; headless Chromium (Debian's, through Playwright) opens /studio with an empty cache
each round, and the time is taken from the start of navigation until the sign-in form is on
screen (the bundle fetched, parsed and run, dmn-js included).

    .venv/bin/python benchmarks/bench_studio_load.py [--rounds 10]

It prints the median and the worst round, and the bundle's sizes (raw and gzipped).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app  # noqa: E402
from api.server import listening_socket  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.studio import BUNDLE, studio_dist  # noqa: E402
from registry import upgrade  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def bundle_sizes(dist: Path) -> dict[str, tuple[int, int]]:
    files = [dist / BUNDLE, dist / "studio-style.css"]
    return {f.name: (f.stat().st_size, len(gzip.compress(f.read_bytes(), 6))) for f in files}


def serve(url: str) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = listening_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(database_url=url)), log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    dist = studio_dist()
    if not (dist / BUNDLE).is_file():
        sys.exit(f"the studio is not built in {dist}: run `make studio`")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        server, thread, base = serve(url)
        times: list[float] = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                for _ in range(options.rounds + 1):  # the first round warms the server and the OS cache
                    context = browser.new_context()  # an empty HTTP cache every round
                    page = context.new_page()
                    start = time.perf_counter()
                    page.goto(f"{base}/studio")
                    page.get_by_label("API key").wait_for(state="visible")
                    times.append(time.perf_counter() - start)
                    context.close()
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=20)
    rounds = times[1:]
    print(f"studio first load on localhost, {len(rounds)} cold rounds: median {statistics.median(rounds) * 1000:.0f} ms, "
          f"worst {max(rounds) * 1000:.0f} ms")
    for name, (raw, zipped) in bundle_sizes(dist).items():
        print(f"{name}: {raw / 1024:.0f} KiB ({zipped / 1024:.0f} KiB gzipped)")


if __name__ == "__main__":
    main()
