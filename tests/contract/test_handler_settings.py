"""The unzip handler runs with exactly the variables the deployment sets: the environment
file's output bucket and limits are the ones it uses (against localcloud, through oss2)."""

from __future__ import annotations

import uuid

import oss2
import pytest
import yaml

from handlers import unzip as unzip_handler
from handlers.errors import PackageRejected
from handlers.events import UnzipEvent, parse_event
from handlers.settings import UnzipSettings
from ossbatch.config import PROJECT_ROOT, load_environment
from ossbatch.deployment import deployment, local_target
from tests import zipcorpus
from tests.handlerkit import fc_context


def unzip_variables(localcloud, tmp_path, **unzip_fields) -> tuple:
    """The unzip function's environment from environments/prod.yaml (with `unzip_fields`
    changed), pointed at localcloud."""
    data = yaml.safe_load((PROJECT_ROOT / "environments" / "prod.yaml").read_text())
    data["unzip"].update(unzip_fields)
    path = tmp_path / "prod-variant.yaml"
    path.write_text(yaml.safe_dump(data))
    env = load_environment(path)
    target = local_target(localcloud.account_id, localcloud.oss_endpoint, localcloud.fnf_endpoint)
    return env, deployment(env, target).function("unzip").environment


def make_bucket(localcloud, oss_auth, name: str):
    bucket = oss2.Bucket(oss_auth, localcloud.oss_endpoint, name)
    try:
        bucket.create_bucket()
    except oss2.exceptions.BucketAlreadyExists:
        pass
    return bucket


@pytest.fixture
def packages(localcloud, oss_auth):
    return make_bucket(localcloud, oss_auth, f"pkg-{uuid.uuid4().hex[:20]}")


def run_with(variables: dict, event: dict, localcloud):
    settings = UnzipSettings.from_environ(variables)
    return unzip_handler.run(
        parse_event(UnzipEvent, event), fc_context(localcloud), settings=settings
    )


def test_entries_go_to_the_extraction_bucket_the_environment_names(
    localcloud, oss_auth, packages, tmp_path
):
    env, variables = unzip_variables(localcloud, tmp_path)
    extraction = make_bucket(localcloud, oss_auth, env.buckets.extraction.name)
    make_bucket(localcloud, oss_auth, env.buckets.reports.name)
    packages.put_object("incoming/one.zip", zipcorpus.ordinary())
    event = {"job_id": "s1", "package": {"bucket": packages.bucket_name, "key": "incoming/one.zip"}}
    result = run_with(variables, event, localcloud)
    assert result["all_succeeded"]
    written = [o.key for o in oss2.ObjectIterator(extraction, prefix="extracted/one/")]
    assert written, "nothing reached the extraction bucket"
    assert not list(oss2.ObjectIterator(packages, prefix="extracted/"))


def test_the_environment_files_entry_limit_is_the_one_enforced(
    localcloud, oss_auth, packages, tmp_path
):
    env, variables = unzip_variables(
        localcloud,
        tmp_path,
        limits={**load_environment("prod").unzip.limits.model_dump(), "max_entries": 100},
    )
    make_bucket(localcloud, oss_auth, env.buckets.extraction.name)
    packages.put_object("incoming/bomb.zip", zipcorpus.bomb_by_count(300))
    event = {
        "job_id": "s2",
        "package": {"bucket": packages.bucket_name, "key": "incoming/bomb.zip"},
    }
    with pytest.raises(PackageRejected, match="TooManyEntries"):
        run_with(variables, event, localcloud)
    # an event cannot loosen what the environment allows
    with pytest.raises(PackageRejected, match="TooManyEntries"):
        run_with(variables, {**event, "limits": {"max_entries": 1000}}, localcloud)


def test_prod_limits_reach_the_handler_unchanged():
    prod = load_environment("prod")
    variables = (
        deployment(prod, local_target("1" * 16, "http://o", "http://f"))
        .function("unzip")
        .environment
    )
    event = parse_event(UnzipEvent, {"job_id": "s3", "package": {"bucket": "bkt", "key": "k"}})
    limits = UnzipSettings.from_environ(variables).fill(event).limits
    assert limits.model_dump() == prod.unzip.limits.model_dump()
