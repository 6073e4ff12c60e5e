"""Execution input shared by every job kind: the resources a flow calls, and the unzip
job (the trigger builds it; the unzip flow reads it). Copy/restore jobs: ossbatch/jobdocs.py.
"""

from __future__ import annotations

from pydantic import Field

from .events import JOB_ID_PATTERN, PackageRef
from .shards import Strict, UnzipCounters

# a continuation appends `--<seq>`; CloudFlow execution names are at most 128 chars
# (limits page), so a job id leaves room for `--` and six digits
CONTINUATION_ROOM = len("--999999")
JOB_ID_MAX = 128 - CONTINUATION_ROOM


class Resources(Strict):
    """ARNs the flow calls: its function, itself (continuation) and the notify queue."""

    function: str = Field(description="the job's FC function ARN (copy, restore or unzip)")
    flow: str
    queue: str = Field("", description="MNS queue ARN; empty: no notification")


class UnzipJobSettings(Strict):
    delete_after_success: bool = False
    pages_per_execution: int = Field(
        300, ge=1, description="pages before a continuation (11 events each, see eventbudget)"
    )
    tuning: dict = Field(default_factory=dict, description="handler tuning (UnzipTuning)")


class UnzipJob(Strict):
    """The unzip flow's input: one package version; a continuation carries the marker on."""

    job_id: str = Field(pattern=JOB_ID_PATTERN, max_length=JOB_ID_MAX)
    package: PackageRef
    resources: Resources
    settings: UnzipJobSettings = UnzipJobSettings()
    seq: int = Field(0, ge=0)
    marker: int = Field(0, ge=0)
    totals: UnzipCounters = UnzipCounters()
    first_page_at: float = Field(0.0, ge=0, description="0: the first page sets it")
    pages: int = Field(0, ge=0)
