"""What the server asks of the handler of each resource type it serves.

Handlers work on plain properties: the server reveals secrets before calling
in and seals the answer again, adding the properties a type always keeps
secret (``secrets``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import grpc
from pulumi.runtime.proto import provider_pb2

from provisioning.sandbox.provider.aws import Settings, all_tags
from provisioning.sandbox.provider.diffing import Change, inherit_all
from provisioning.sandbox.provider.properties import UNKNOWN, Props


class ProviderError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ResourceType(ABC):
    """``computed_inputs`` are the Optional+Computed input paths (see
    ``diffing.inherit``); ``computed_outputs`` the outputs only AWS knows."""

    token: ClassVar[str]
    secrets: ClassVar[frozenset[str]] = frozenset()
    computed_inputs: ClassVar[tuple[tuple[str, ...], ...]]
    computed_outputs: ClassVar[tuple[str, ...]]

    @abstractmethod
    def check(self, props: Props) -> tuple[Props, list[provider_pb2.CheckFailure]]:
        """The inputs with pulumi-aws's defaults, and what it would refuse."""

    @abstractmethod
    def diff(
        self,
        old_inputs: Props,
        olds: Props,
        news: Props,
        settings: Settings,
        ignore: frozenset[str],
    ) -> Change: ...

    @abstractmethod
    def create(self, props: Props, settings: Settings, timeout: float) -> Props: ...

    @abstractmethod
    def read(
        self, resource_id: str, state: Props, old_inputs: Props, settings: Settings
    ) -> tuple[Props, Props] | None:
        """Outputs and inputs as refresh stores them; None once the resource is gone."""

    @abstractmethod
    def update(
        self,
        resource_id: str,
        olds: Props,
        old_inputs: Props,
        news: Props,
        settings: Settings,
        timeout: float,
    ) -> Props: ...

    @abstractmethod
    def delete(self, resource_id: str, olds: Props, settings: Settings, timeout: float) -> None: ...

    def preview_create(self, props: Props, settings: Settings) -> Props:
        """Outputs of a create that hasn't happened: inputs known, the rest unknown."""
        return {
            **{k: UNKNOWN for k in self.computed_outputs},
            **props,
            "tagsAll": all_tags(props, settings),
        }

    def preview_update(
        self, olds: Props, old_inputs: Props, news: Props, settings: Settings
    ) -> Props:
        """Terraform's plan keeps computed attributes at their prior values (only
        tags_all is recomputed), so pulumi-aws previews show them known."""
        return {
            **olds,
            **inherit_all(news, old_inputs, self.computed_inputs),
            "tagsAll": all_tags(news, settings),
        }
