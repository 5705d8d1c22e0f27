"""A daemon thread that runs until asked to stop: what the file watcher and the store follower
share, so each only says what its thread does."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Background:
    """Runs ``work(stopping)`` in a named daemon thread; ``work`` returns once ``stopping`` is
    set (it waits on it between rounds, so stopping is prompt)."""

    def __init__(self, name: str, work: Callable[[threading.Event], None]) -> None:
        self.name = name
        self.work = work
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and not self.stopping.is_set()

    def start(self) -> None:
        if self._thread is None:
            self.stopping.clear()
            self._thread = threading.Thread(target=self.work, args=(self.stopping,),
                                            name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float | None = 10.0) -> None:
        """Ask the work to return and wait for it (``None``: as long as it takes)."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None
