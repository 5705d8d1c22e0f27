"""The HTTP/1.1 protocol ``stations serve`` runs: uvicorn's httptools protocol with guards against
clients that hold connections without finishing their requests.

- **Head size**: httptools accepts a request head of any size, so one client could make the
  server hold megabytes per connection.  Past :data:`MAX_HEAD_BYTES` the client gets 431.
- **Head time**: a client that sends its request line and headers a byte at a time (slowloris)
  holds a connection, and every held connection counts against ``--limit-concurrency``: a
  thousand of them lock every rider out.  The head must arrive within ``header_timeout_s`` of
  the connection opening (or of the request's first byte on a kept-alive connection): 408.
- **Body time**: the same for the body, within ``body_timeout_s`` of the head: 408.
- **Connections per address**: one address holds at most ``max_connections_per_address``
  connections at once; more are answered 503 and closed, so one client cannot take all.
- **Malformed requests** get a JSON 400 instead of uvicorn's plain text.

Every refusal is JSON (Chinese, then English) with ``connection: close``, as nginx does.  The
limits travel in :class:`GuardedConfig`, a uvicorn ``Config`` that worker processes receive
whole.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import Counter
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

MAX_HEAD_BYTES = 32 * 1024
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0
MAX_CONNECTIONS_PER_ADDRESS = 64

logger = logging.getLogger(__name__)

# Open connections per client address, for each server (worker process) running the protocol.
_OPEN_BY_SERVER: weakref.WeakKeyDictionary[ServerState, Counter[str]] = \
    weakref.WeakKeyDictionary()


class GuardedConfig(uvicorn.Config):
    """uvicorn's configuration plus the limits of :class:`GuardedProtocol` (0 turns one off)."""

    def __init__(self, app: Any, *, header_timeout_s: float = HEADER_TIMEOUT_S,
                 body_timeout_s: float = BODY_TIMEOUT_S,
                 max_connections_per_address: int = MAX_CONNECTIONS_PER_ADDRESS,
                 **options: Any) -> None:
        super().__init__(app, http=GuardedProtocol, **options)
        self.header_timeout_s = header_timeout_s
        self.body_timeout_s = body_timeout_s
        self.max_connections_per_address = max_connections_per_address


class HeadTooLarge(Exception):
    """Raised from a parser callback; httptools stops parsing and uvicorn answers 400."""


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's protocol with the size, time and per-address limits above."""

    head_bytes = 0
    head_too_large = False

    def __init__(self, config: uvicorn.Config, server_state: ServerState,
                 *args: Any, **kwargs: Any) -> None:
        super().__init__(config, server_state, *args, **kwargs)
        self.header_timeout_s = getattr(config, "header_timeout_s", HEADER_TIMEOUT_S)
        self.body_timeout_s = getattr(config, "body_timeout_s", BODY_TIMEOUT_S)
        self.max_per_address = getattr(config, "max_connections_per_address",
                                       MAX_CONNECTIONS_PER_ADDRESS)
        self.open_by_address = _OPEN_BY_SERVER.setdefault(server_state, Counter())
        self.counted_address: str | None = None
        self.read_timer: asyncio.TimerHandle | None = None

    # ----- connections per address ---------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        if address is not None and self.max_per_address > 0:
            if self.open_by_address[address] >= self.max_per_address:
                logger.warning("refused a connection from %s: it already holds %d (503)",
                               address, self.max_per_address)
                self._refuse(503, "同一地址的连接过多，请稍后再试",
                             f"too many connections from one address (at most "
                             f"{self.max_per_address}); try again later",
                             b"retry-after: 5\r\n")
                return
            self.open_by_address[address] += 1
            self.counted_address = address
        self._start_timer(self.header_timeout_s, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        if self.counted_address is not None:
            self.open_by_address[self.counted_address] -= 1
            if self.open_by_address[self.counted_address] <= 0:
                del self.open_by_address[self.counted_address]
            self.counted_address = None
        super().connection_lost(exc)

    # ----- head size and read times --------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_bytes = 0
        if self.read_timer is None:  # a further request on a kept-alive connection
            self._start_timer(self.header_timeout_s, self._head_too_slow)

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_timer()
        super().on_headers_complete()
        if any(name in (b"content-length", b"transfer-encoding") and value not in (b"0", b"")
               for name, value in self.headers):
            self._start_timer(self.body_timeout_s, self._body_too_slow)

    def on_message_complete(self) -> None:
        self._stop_timer()
        super().on_message_complete()

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            self.head_too_large = True
            raise HeadTooLarge

    def _start_timer(self, seconds: float, callback: Any) -> None:
        self._stop_timer()
        if seconds > 0:
            self.read_timer = self.loop.call_later(seconds, callback)

    def _stop_timer(self) -> None:
        if self.read_timer is not None:
            self.read_timer.cancel()
            self.read_timer = None

    def _head_too_slow(self) -> None:
        self.read_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # a pipelined head: finish the answer, then close
            return
        logger.warning("closed a connection whose request head took over %g s (408)",
                       self.header_timeout_s)
        self._refuse(408, "请求头发送超时", f"request line and headers not received within "
                     f"{self.header_timeout_s:g} s")

    def _body_too_slow(self) -> None:
        self.read_timer = None
        logger.warning("closed a connection whose request body took over %g s (408)",
                       self.body_timeout_s)
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()
            return
        self._refuse(408, "请求体发送超时",
                     f"request body not received within {self.body_timeout_s:g} s")

    # ----- refusals ------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error, as JSON; 431 when the error is our head cap."""
        if self.head_too_large:
            logger.warning("refused a request whose line and headers exceed %d bytes (431)",
                           MAX_HEAD_BYTES)
            self._refuse(431, "请求行和请求头过大",
                         f"request line and headers exceed {MAX_HEAD_BYTES} bytes")
        else:
            self._refuse(400, "无法解析的 HTTP 请求", f"malformed HTTP request: {msg}")

    def _refuse(self, status: int, chinese: str, english: str, extra: bytes = b"") -> None:
        """Answer ``status`` with a JSON body and close the connection."""
        if self.transport.is_closing():
            return
        body = orjson.dumps({"detail": f"{chinese} / {english}"})
        self.transport.write(b"".join([
            STATUS_LINE[status],
            *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            extra,
            b"connection: close\r\n\r\n",
            body,
        ]))
        self.transport.close()
