"""The provider's gRPC service: the engine's requests, dispatched by resource
type to the handler of that type (``HANDLERS``).

One process serves every engine and every provider instance that attaches, so
provider configuration is kept per gRPC connection: each provider instance the
engine loads dials its own connection, and a resource operation arrives on the
connection of the provider that owns the resource.

Errors go back to the engine, which shows them; the process's stderr (the
sandbox's ``provider.log``) gets one line per failed call, and the traceback
of any bug.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent import futures
from typing import Any, TypeVar

import grpc
from botocore.exceptions import BotoCoreError, ClientError
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from provisioning.sandbox.provider.aws import Settings, settings_from
from provisioning.sandbox.provider.certificate import Certificate
from provisioning.sandbox.provider.diffing import compare, diff_response
from provisioning.sandbox.provider.distribution import Distribution
from provisioning.sandbox.provider.properties import (
    Props,
    from_struct,
    reveal,
    scrub,
    seal,
    split_secrets,
    to_struct,
)
from provisioning.sandbox.provider.resource import ProviderError, ResourceType

T = TypeVar("T")

VERSION = "7.51.1"
HANDLERS: dict[str, ResourceType] = {
    handler.token: handler for handler in (Certificate(), Distribution())
}


def handler_for(request: Any) -> ResourceType:
    """Older engines send only the URN, whose third part ends with the type."""
    kind = request.type or request.urn.split("::")[2].split("$")[-1]
    handler = HANDLERS.get(kind)
    if handler is None:
        raise ProviderError(
            grpc.StatusCode.UNIMPLEMENTED, f"the sandbox provider does not manage {kind}"
        )
    return handler


def _struct(request: Any, name: str) -> Props:
    return from_struct(getattr(request, name)) if request.HasField(name) else {}


def log(message: str) -> None:
    print(f"sandbox provider: {message}", file=sys.stderr, flush=True)


def rpc(method: Callable[..., T]) -> Callable[..., T]:
    """Turns failures into gRPC errors the engine shows; AWS's error code and
    message come through, PEM text never does."""

    @functools.wraps(method)
    def handler(self: Provider, request: Any, context: grpc.ServicerContext) -> T:
        try:
            return method(self, request, context)
        except ProviderError as error:
            code, message = error.code, error.message
        except ClientError as error:
            details = error.response.get("Error", {})
            code = grpc.StatusCode.UNKNOWN
            message = (
                f"{error.operation_name}: {details.get('Code', 'Error')}: "
                f"{details.get('Message', '')}"
            )
        except BotoCoreError as error:
            code, message = grpc.StatusCode.UNAVAILABLE, f"{type(error).__name__}: {error}"
        except Exception as error:  # noqa: BLE001 - a bug's message must be scrubbed too
            log(scrub(traceback.format_exc()))
            code, message = grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}"
        log(f"{method.__name__} failed: {code.name}: {scrub(message)}")
        context.abort(code, scrub(message))

    return handler


class Provider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self) -> None:
        self._settings: dict[str, Settings] = {}
        self._lock = threading.Lock()

    def settings(self, context: grpc.ServicerContext) -> Settings:
        """The configuration of the provider instance behind this connection;
        the Go engine dials each instance separately."""
        with self._lock:
            return self._settings.get(context.peer()) or settings_from({})

    @rpc
    def Handshake(
        self, request: provider_pb2.ProviderHandshakeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ProviderHandshakeResponse:
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True, accept_resources=True)

    @rpc
    def GetPluginInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    @rpc
    def GetSchema(
        self, request: provider_pb2.GetSchemaRequest, context: grpc.ServicerContext
    ) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(
            schema=json.dumps({"name": "aws", "version": VERSION})
        )

    @rpc
    def CheckConfig(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    @rpc
    def DiffConfig(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        """Nothing here replaces the provider: in pulumi-aws v7 a region change
        replaces the resources themselves, through their ``region``."""
        old = reveal(_struct(request, "old_inputs") or _struct(request, "olds"))
        return diff_response(
            compare(
                old, reveal(_struct(request, "news")), replace_keys=frozenset(), ordered=frozenset()
            )
        )

    @rpc
    def Configure(
        self, request: provider_pb2.ConfigureRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ConfigureResponse:
        if request.HasField("args"):
            config = reveal(from_struct(request.args))
        else:
            config = {k.rsplit(":", 1)[-1]: v for k, v in request.variables.items()}
        with self._lock:
            self._settings[context.peer()] = settings_from(config)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=True
        )

    @rpc
    def Invoke(
        self, request: provider_pb2.InvokeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.InvokeResponse:
        raise ProviderError(
            grpc.StatusCode.UNIMPLEMENTED, f"the sandbox provider does not implement {request.tok}"
        )

    @rpc
    def Check(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        handler = handler_for(request)
        props, secrets = split_secrets(_struct(request, "news"))
        checked, failures = handler.check(props)
        return provider_pb2.CheckResponse(
            inputs=to_struct(seal(checked, secrets | handler.secrets)), failures=failures
        )

    @rpc
    def Diff(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        handler = handler_for(request)
        ignore = frozenset(p.split(".")[0].split("[")[0] for p in request.ignoreChanges)
        change = handler.diff(
            reveal(_struct(request, "old_inputs")),
            reveal(_struct(request, "olds")),
            reveal(_struct(request, "news")),
            self.settings(context),
            ignore,
        )
        return diff_response(change)

    @rpc
    def Create(
        self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        handler = handler_for(request)
        props, secrets = split_secrets(_struct(request, "properties"))
        settings = self.settings(context)
        if request.preview:
            outputs = handler.preview_create(props, settings)
        else:
            outputs = handler.create(props, settings, request.timeout)
        return provider_pb2.CreateResponse(
            id="" if request.preview else outputs["id"],
            properties=to_struct(seal(outputs, secrets | handler.secrets)),
        )

    @rpc
    def Read(
        self, request: provider_pb2.ReadRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ReadResponse:
        handler = handler_for(request)
        state, state_secrets = split_secrets(_struct(request, "properties"))
        old_inputs, input_secrets = split_secrets(_struct(request, "inputs"))
        # An import names a resource outside the provider's region "ID@region".
        resource_id, _, region = request.id.partition("@")
        if region:
            state = {**state, "region": region}
        found = handler.read(resource_id, state, old_inputs, self.settings(context))
        if found is None:
            return provider_pb2.ReadResponse()
        outputs, inputs = found
        if region:
            inputs = {**inputs, "region": region}
        return provider_pb2.ReadResponse(
            id=resource_id,
            properties=to_struct(seal(outputs, state_secrets | handler.secrets)),
            inputs=to_struct(seal(inputs, input_secrets | handler.secrets)),
        )

    @rpc
    def Update(
        self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        handler = handler_for(request)
        olds = reveal(_struct(request, "olds"))
        old_inputs = reveal(_struct(request, "old_inputs"))
        news, secrets = split_secrets(_struct(request, "news"))
        settings = self.settings(context)
        if request.preview:
            outputs = handler.preview_update(olds, old_inputs, news, settings)
        else:
            outputs = handler.update(request.id, olds, old_inputs, news, settings, request.timeout)
        return provider_pb2.UpdateResponse(
            properties=to_struct(seal(outputs, secrets | handler.secrets))
        )

    @rpc
    def Delete(
        self, request: provider_pb2.DeleteRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        handler = handler_for(request)
        olds = reveal(_struct(request, "properties"))
        handler.delete(request.id, olds, self.settings(context), request.timeout)
        return empty_pb2.Empty()

    @rpc
    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        """Every engine sends this as it finishes; other engines may still be
        using this process, so nothing stops."""
        return empty_pb2.Empty()

    @rpc
    def Attach(
        self, request: plugin_pb2.PluginAttach, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """The engine's address would only be needed to log through it."""
        return empty_pb2.Empty()


def serve(port: int = 0) -> tuple[grpc.Server, int]:
    """Loopback only: the sandbox provider has no authentication."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[
            ("grpc.max_receive_message_length", 256 * 1024 * 1024),
            ("grpc.max_send_message_length", 256 * 1024 * 1024),
        ],
    )
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(Provider(), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


def main(argv: list[str]) -> int:
    """Prints the port, then serves until killed; with ``--watch-stdin`` it
    also stops when stdin closes, so a parent that dies can't leave it behind."""
    server, port = serve(0)
    log(f"serving {', '.join(HANDLERS)} on 127.0.0.1:{port}")
    print(port, flush=True)
    if "--watch-stdin" in argv:
        sys.stdin.read()
        server.stop(grace=1).wait()
        return 0
    server.wait_for_termination()
    return 0
