"""A stand-in for ``pulumi-language-python``, so `pulumi up` on this project
works where only a source-built CLI exists.

The official host is a separate Go module that the module proxy reachable
here does not serve. Real installations ship it with the CLI and never use
this. It reuses the SDK's own language server (the one inline Automation API
programs use) and runs the project's ``__main__.py`` as the program.
"""

from __future__ import annotations

import runpy
import sys
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2_grpc

MAX_MESSAGE = 400 * 1024 * 1024  # the engine's own limit for large programs


class ProjectLanguageHost(LanguageServer):
    def __init__(self) -> None:
        super().__init__(self.run_project)
        self.directory = Path.cwd()

    def Run(self, request: Any, context: Any) -> Any:
        self.directory = Path(request.info.program_directory or request.pwd)
        return super().Run(request, context)

    def run_project(self) -> None:
        if str(self.directory) not in sys.path:
            sys.path.insert(0, str(self.directory))
        runpy.run_path(str(self.directory / "__main__.py"), run_name="__main__")


def main() -> None:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
        ],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(ProjectLanguageHost(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # the engine's way of saying it is done
        server.stop(grace=None)


if __name__ == "__main__":
    main()
