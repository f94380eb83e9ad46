"""moto's server on loopback: a real HTTP endpoint, so boto3, botocore's
retries and the Pulumi engine all run the same code paths as against AWS."""

from __future__ import annotations

import logging
import re
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from provisioning.sandbox import aws_gaps

HOST = "127.0.0.1"

# Credentials moto accepts; set so nothing ever reaches for a real profile.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class _Plain(logging.Formatter):
    """werkzeug colours its access log for a terminal; a file gets plain text."""

    def format(self, record: logging.LogRecord) -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", super().format(record))


class _GapsFilled(ThreadedMotoServer):
    """moto's server behind ``aws_gaps``: the APIs moto lacks answered from
    its data."""

    def _server_entry(self) -> None:
        app = aws_gaps.wsgi(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True)
        self._server_ready_event.set()
        self._server.serve_forever()


@contextmanager
def moto_server(log: Path | None = None) -> Iterator[str]:
    """Yields the endpoint URL of a moto server that lives for the block.
    With ``log``, its access log (werkzeug's, one line per request) goes to
    that file instead of stderr, where it would bury the output of whatever
    runs against it."""
    port = free_port()
    server = _GapsFilled(ip_address=HOST, port=port, verbose=False)
    access_log = logging.getLogger("werkzeug")
    handler = logging.FileHandler(log) if log else None
    if handler:
        handler.setFormatter(_Plain())
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False
    server.start()
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.stop()
        if handler:
            access_log.removeHandler(handler)
            access_log.propagate = True
            handler.close()


def reset(endpoint: str) -> None:
    """Forget every resource, so each test starts from an empty account."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass
