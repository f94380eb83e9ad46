"""What one run of a job's Pulumi program is a function of, gathered
before any resource exists: the job's stored inputs, the template
configurations it clones (pinned to saved versions), its private keys and
which requested certificates ACM has issued. Plain data: the program reads
it and never asks anyone for more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from provisioning.program.inputs import JobInputs, JobItem, TemplatePin


@dataclass(frozen=True)
class Template:
    distribution_id: str
    version: int
    config: Mapping[str, Any]

    @property
    def pin(self) -> TemplatePin:
        return TemplatePin(distribution_id=self.distribution_id, version=self.version)


@dataclass(frozen=True)
class JobSpec:
    """Everything one run of the program needs: the stored inputs, the
    private keys from the stack's secrets, the pinned template
    configurations, and what AWS says now."""

    job_id: str
    inputs: JobInputs
    templates: Mapping[str, Template]  # by item key, only for items that get a distribution
    keys: Mapping[str, SecretStr] = field(default_factory=dict)  # imported items' keys
    issued: frozenset[str] = field(default_factory=frozenset)  # item keys ACM reports ISSUED
    failed: frozenset[str] = field(default_factory=frozenset)  # item keys the job records failed

    def makes_distribution(self, item: JobItem) -> bool:
        """Imported certificates are usable at once; requested ones only once
        ISSUED, since CloudFront refuses a distribution with any other. An
        item reusing another's certificate waits for that item's."""
        usable = item.imported or (item.certificate_from or item.key) in self.issued
        return self.inputs.auto_creation and item.key in self.templates and usable
