"""The job document is the contract from the CLI through flow input, continuation, status
and resume: its checked-in JSON Schema is current, every document the CLI builds validates
(and stays under CloudFlow's 64 KiB), and the flows read only fields the schema declares."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.jobinput import UnzipJob
from handlers.shards import CopyShard, RestoreShard, UnzipPageResult
from localcloud.flow.parser import parse_flow
from localcloud.flow.spec import ChoiceState, MapState, Scope, TaskState, WaitState
from ossbatch import jobdocs, jobdocs_restore, jobschemas
from ossbatch.cloud import Connection
from ossbatch.deployment import FLOWS_DIR
from ossbatch.jobdocs import CopyJob, RestoreJob
from ossbatch.jobs import new_job_id

MAX_DATA = 64 * 1024


@pytest.mark.parametrize("name", sorted(jobschemas.MODELS))
def test_the_checked_in_json_schema_is_current(name):
    path = jobschemas.path_of(name)
    assert path.exists(), f"run `python -m ossbatch.jobschemas` to write {path.name}"
    assert path.read_text(encoding="utf-8") == jobschemas.render(name), (
        f"{path.name} is stale: run `python -m ossbatch.jobschemas` and review the diff"
    )


# --- documents the CLI builds ----------------------------------------------------------


@pytest.fixture(scope="module")
def source(localcloud):
    """A bucket with an index object (1023-byte key) and a few listed objects."""
    import oss2

    auth = oss2.Auth(localcloud.access_key_id, localcloud.access_key_secret)
    name = f"t-{uuid.uuid4().hex[:20]}"
    bucket = oss2.Bucket(auth, localcloud.oss_endpoint, name)
    bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    index_key = "i" * 1023
    lines = "".join(f"{name},{'k' * 400}{i:05d}\n" for i in range(400))
    bucket.put_object(index_key, lines.encode())
    for i in range(5):
        bucket.put_object(f"listed/{i}", b"x", headers={"x-oss-storage-class": "Archive"})
    conn = Connection(
        region="cn-hangzhou",
        account_id=localcloud.account_id,
        access_key_id=localcloud.access_key_id,
        access_key_secret=localcloud.access_key_secret,
        oss_endpoint=localcloud.oss_endpoint,
        buckets={"reports": name},
        flows={k: f"ossbatch-x-{k}" for k in ("copy", "restore", "unzip")},
        functions={k: f"ossbatch-x-{k}" for k in ("copy", "restore", "unzip")},
    )
    return conn, name, index_key


cli_options = st.fixed_dictionaries(
    {
        "concurrency": st.integers(1, 40),
        "page_budget_s": st.floats(1, 840),
        "tolerated_failures": st.integers(0, 10**6),
        "max_items_per_page": st.none() | st.integers(1, 10_000),
        "notify_queue": st.sampled_from(["", "notify", "q-" + "n" * 60]),
        "event_limit": st.integers(2000, 25_000),
    }
)
PROFILE = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROFILE
@given(
    options=cli_options,
    use_index=st.booleans(),
    storage_class=st.sampled_from([None, "IA", "Archive", "ColdArchive", "DeepColdArchive"]),
    dest_prefix=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200),
)
def test_every_copy_document_the_cli_builds_validates(
    source, options, use_index, storage_class, dest_prefix
):
    conn, bucket, index_key = source
    doc = jobdocs.copy_document(
        conn,
        new_job_id("copy"),
        index=f"oss://{bucket}/{index_key}" if use_index else None,
        source=None if use_index else f"oss://{bucket}/listed/",
        dest=f"oss://{bucket}/{dest_prefix}",
        storage_class=storage_class,
        **options,
    )
    job = CopyJob.model_validate(json.loads(json.dumps(doc)))
    assert job.request.index is not None if use_index else job.request.listing is not None
    text = json.dumps(doc)
    assert text.count(index_key) == (1 if use_index else 0)  # the location lives once
    assert len(text.encode()) <= MAX_DATA


@PROFILE
@given(options=cli_options, use_index=st.booleans(), tier=st.sampled_from(["Standard", "Bulk"]))
def test_every_restore_document_the_cli_builds_validates(source, options, use_index, tier):
    conn, bucket, index_key = source
    doc = jobdocs_restore.restore_document(
        conn,
        new_job_id("restore"),
        index=f"oss://{bucket}/{index_key}" if use_index else None,
        source=None if use_index else f"oss://{bucket}/listed/",
        days=1,
        tier=tier,
        poll_seconds=None,
        default_poll_seconds=60,
        deadline_hours=72,
        **options,
    )
    job = RestoreJob.model_validate(json.loads(json.dumps(doc)))
    # the index location lives once, in the request: a shard is positions only
    text = json.dumps(doc)
    assert text.count(index_key) == (1 if use_index else 0)
    assert len(text.encode()) <= MAX_DATA
    assert job.settings.pages_per_execution >= 1


def test_forty_restore_shards_polling_a_1023_byte_index_key_fit_the_state_limit(source):
    conn, bucket, index_key = source
    doc = jobdocs_restore.restore_document(
        conn,
        new_job_id("restore"),
        index=f"oss://{bucket}/{index_key}",
        source=None,
        days=1,
        tier="Standard",
        concurrency=40,
        page_budget_s=60,
        poll_seconds=None,
        default_poll_seconds=60,
        deadline_hours=72,
    )
    job = RestoreJob.model_validate(doc)
    for item in job.shards:  # every shard mid-poll: its state carries the polled range too
        item.shard.poll = item.shard.index.model_copy()
        item.shard.phase, item.shard.waiting = "poll", True
    assert len(job.shards) == 40
    assert len(json.dumps(jobdocs.dump(job)).encode()) < MAX_DATA


# --- the flows read only declared fields -----------------------------------------------


def resolve(schema: dict, node: dict) -> list[dict]:
    if "$ref" in node:
        return resolve(schema, schema["$defs"][node["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in node:
        return [n for branch in node["anyOf"] for n in resolve(schema, branch)]
    return [node]


def declares(schema: dict, path: tuple[str, ...]) -> bool:
    nodes = resolve(schema, schema)
    for part in path:
        following = []
        for node in nodes:
            if part == "[]" and node.get("type") == "array":
                following += resolve(schema, node.get("items", {}))
            elif part in node.get("properties", {}):
                following += resolve(schema, node["properties"][part])
            elif isinstance(node.get("additionalProperties"), dict) or (
                node.get("type") == "object" and "properties" not in node
            ):
                return True  # a free-form mapping (tuning, totals of another kind)
        if not following:
            return False
        nodes = following
    return True


def paths_of(scope: Scope):
    for state in scope.states.values():
        for constructor in (state.input, state.output, getattr(state, "parameters", None)):
            if constructor is not None:
                yield state.name, constructor.paths
        for rule in state.catch:
            if rule.output is not None:
                yield state.name, rule.output.paths
        if isinstance(state, ChoiceState):
            for branch in state.branches:
                yield state.name, branch.condition.paths
        if isinstance(state, WaitState) and state.seconds_expr is not None:
            yield state.name, state.seconds_expr.paths
        if isinstance(state, MapState):
            yield state.name, state.items_path.paths
            yield from paths_of(state.processor)
        assert not isinstance(state, TaskState) or state.parameters is not None


JOBS = {
    "copy": (CopyJob, CopyShard),
    "restore": (RestoreJob, RestoreShard),
    "unzip": (UnzipJob, None),
}


@pytest.mark.parametrize("stem", sorted(JOBS))
def test_the_flows_read_only_fields_the_job_schema_declares(stem):
    job_model, shard_model = JOBS[stem]
    job_schema = job_model.model_json_schema()
    flow = parse_flow((FLOWS_DIR / f"{stem}.yaml").read_text())
    checked = 0
    for state, paths in paths_of(flow.scope):
        for path in paths:
            if path[:3] == ("Context", "Execution", "Input"):
                target, rest = job_schema, path[3:]
            elif shard_model is not None and path[:2] == ("Input", "shard"):
                target, rest = shard_model.model_json_schema(), path[2:]
            elif stem == "unzip" and path[:2] == ("Input", "last"):
                target, rest = UnzipPageResult.model_json_schema(), path[2:]
            else:
                continue
            checked += 1
            assert declares(target, rest), f"{stem}.yaml state {state!r} reads undeclared {path}"
    assert checked >= 10


def test_the_field_check_catches_a_typo():
    schema = CopyJob.model_json_schema()
    assert declares(schema, ("settings", "pages_per_execution"))
    assert not declares(schema, ("settings", "pages_per_executoin"))
    assert not declares(schema, ("resources", "copy"))
