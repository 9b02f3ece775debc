"""The processes `decisionary dev` runs beside the service: the example receiver and a worker.

They are child processes of `decisionary dev`, and it stops them when it stops, whatever stops
it (Ctrl-C, SIGTERM, a port already in use): the worker first, with SIGTERM, so that it finishes
the steps in progress (they may be calling the receiver), then the receiver; a child that does
not stop in time is killed. Each child runs in its own process group, so a Ctrl-C at the
terminal reaches `decisionary dev` alone and the children stop in that order rather than all
at once. On Linux each child also gets SIGTERM from the kernel if `decisionary dev` dies without
stopping it (killed with SIGKILL, its terminal closed): no child outlives it.

Their output is shown with a prefix, `[receiver] ...` and `[worker] ...`.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_OUTPUT_LOCK = threading.Lock()


class ChildFailed(RuntimeError):
    """A child process did not start."""


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking the kernel to SIGTERM the child when this process dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the hook only calls it
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return hook


class Child:
    """A child process whose output lines are copied to `out` with a `[name]` prefix."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], *, ready_text: str | None = None,
                 stop_signal: int = signal.SIGTERM, stop_seconds: float = 30.0, out: TextIO | None = None) -> None:
        self.name = name
        self.args = list(args)
        self.env = dict(env)
        self.ready_text = ready_text
        self.stop_signal = stop_signal
        self.stop_seconds = stop_seconds
        self.out = out
        self.ready = threading.Event()
        self.recent: deque[str] = deque(maxlen=20)  # the last lines, to explain a failed start
        self.process: subprocess.Popen[str] | None = None
        self._relay: threading.Thread | None = None

    def start(self) -> Child:
        self.process = subprocess.Popen(
            self.args, env={**self.env, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, errors="replace",
            process_group=0 if os.name == "posix" else None, preexec_fn=_die_with_parent())
        self._relay = threading.Thread(target=self._copy_output, name=f"dev-{self.name}-output", daemon=True)
        self._relay.start()
        if self.ready_text is None:
            self.ready.set()
        return self

    def _copy_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.recent.append(line)
            with _OUTPUT_LOCK:
                print(f"[{self.name}] {line}", file=self.out or sys.stdout, flush=True)
            if self.ready_text is not None and self.ready_text in line:
                self.ready.set()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float) -> None:
        """Wait for the line that says the child is ready; ChildFailed if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.1):
            if not self.running or time.monotonic() >= deadline:
                if self._relay is not None:
                    self._relay.join(1.0)  # its last words
                why = "exited" if not self.running else f"was not ready after {timeout:.0f} s"
                last = "\n".join(f"    {line}" for line in self.recent)
                raise ChildFailed(f"the {self.name} {why}" + (f":\n{last}" if last else ""))

    def stop(self) -> None:
        """Ask the child to stop; kill it if it has not after `stop_seconds`."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(self.stop_signal)
            try:
                process.wait(self.stop_seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._relay is not None:
            self._relay.join(2.0)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Children:
    """The children of one `decisionary dev` run, stopped in the reverse order of their start."""

    def __init__(self) -> None:
        self.started: list[Child] = []

    def start(self, child: Child) -> Child:
        self.started.append(child)
        return child.start()

    def stop(self) -> None:
        try:
            for child in reversed(self.started):
                child.stop()
        except KeyboardInterrupt:  # asked again while waiting: stop waiting
            for child in self.started:
                child.kill()
