"""The HTTP/1.1 protocol ``stations serve`` runs: uvicorn's httptools protocol with a size cap on
the request line and headers.

httptools accepts a request head of any size, so one client could make the server hold
megabytes for each connection before a route ever sees the request.  Past the cap the client
gets 431 Request Header Fields Too Large and the connection is closed, as nginx does.
"""

from __future__ import annotations

import logging

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEAD_BYTES = 32 * 1024

logger = logging.getLogger(__name__)


class HeadTooLarge(Exception):
    """Raised from a parser callback; httptools stops parsing and uvicorn answers 400."""


class CappedHeadProtocol(HttpToolsProtocol):
    """uvicorn's protocol, refusing request heads over :data:`MAX_HEAD_BYTES` with 431."""

    head_bytes = 0
    head_too_large = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            self.head_too_large = True
            raise HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error, which is 431 when the error is our cap."""
        if not self.head_too_large:
            super().send_400_response(msg)
            return
        logger.warning("refused a request whose line and headers exceed %d bytes (431)",
                       MAX_HEAD_BYTES)
        body = b"request line and headers exceed %d bytes" % MAX_HEAD_BYTES
        self.transport.write(b"".join([
            STATUS_LINE[431],
            *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]))
        self.transport.close()
