"""RAM policy evaluation: wildcards, explicit Deny, default deny, trust of a service."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcloud.ram.errors import MalformedPolicyDocument, UnsupportedPolicyElement
from localcloud.ram.policy import Decision, parse_policy, trusts_service
from localcloud.ram.wildcard import matches

ALPHABET = "ab:/*?-."


def _reference(pattern: str, text: str) -> bool:
    # a naive recursive matcher: the specification the compiled one must agree with
    if not pattern:
        return not text
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        return any(_reference(rest, text[i:]) for i in range(len(text) + 1))
    if not text:
        return False
    return (head == "?" or head == text[0]) and _reference(rest, text[1:])


@given(st.text(ALPHABET, max_size=8), st.text(ALPHABET, max_size=10))
def test_wildcard_agrees_with_the_reference_matcher(pattern, text):
    assert matches(pattern, text) == _reference(pattern, text)


@given(st.text(max_size=30))
def test_a_pattern_without_wildcards_matches_only_itself(text):
    literal = text.replace("*", "").replace("?", "")
    assert matches(literal, literal)
    assert not matches(literal, literal + "x")


@given(st.text(min_size=1, max_size=20).filter(lambda t: "*" not in t and "?" not in t))
def test_star_spans_colons_and_slashes_and_question_mark_is_one_character(text):
    assert matches("*", text)
    assert matches("?" * len(text), text)
    assert not matches("?" * (len(text) + 1), text)


def test_regex_characters_in_a_pattern_are_literal():
    assert matches("acs:oss:*:1:b.k/(x)+", "acs:oss:*:1:b.k/(x)+")
    assert not matches("b.k", "bxk")
    assert not re.search("x", "") and not matches("a+", "aa")


def _doc(*statements) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def test_explicit_deny_wins_over_allow_in_any_order():
    allow = {"Effect": "Allow", "Action": "oss:*", "Resource": "acs:oss:*:1:b/*"}
    deny = {"Effect": "Deny", "Action": "oss:DeleteObject", "Resource": "acs:oss:*:1:b/keep/*"}
    for doc in (_doc(allow, deny), _doc(deny, allow)):
        policy = parse_policy(doc)
        assert policy.decide("oss:DeleteObject", "acs:oss:*:1:b/keep/x") is Decision.DENY
        assert policy.decide("oss:DeleteObject", "acs:oss:*:1:b/other") is Decision.ALLOW


def test_nothing_matching_is_denied_by_default():
    policy = parse_policy(
        _doc({"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": ["acs:oss:*:1:b/in/*"]})
    )
    assert policy.decide("oss:GetObject", "acs:oss:*:1:b/out/x") is Decision.IMPLICIT_DENY
    assert policy.decide("oss:PutObject", "acs:oss:*:1:b/in/x") is Decision.IMPLICIT_DENY
    assert policy.decide("oss:getobject", "acs:oss:*:1:b/in/x") is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    "statement, error",
    [
        (
            {"Effect": "Allow", "Action": "a:b", "Resource": "*", "Condition": {}},
            UnsupportedPolicyElement,
        ),
        ({"Effect": "Allow", "NotAction": "a:b", "Resource": "*"}, UnsupportedPolicyElement),
        ({"Effect": "allow", "Action": "a:b", "Resource": "*"}, MalformedPolicyDocument),
        ({"Effect": "Allow", "Action": [], "Resource": "*"}, MalformedPolicyDocument),
        ({"Effect": "Allow", "Action": "a:b"}, MalformedPolicyDocument),
        (
            {"Effect": "Allow", "Action": "a:b", "Resource": "*", "Extra": 1},
            MalformedPolicyDocument,
        ),
    ],
)
def test_documents_localcloud_cannot_evaluate_exactly_are_refused(statement, error):
    with pytest.raises(error) as info:
        parse_policy(_doc(statement))
    assert "Statement[0]" in info.value.message


def test_version_must_be_1():
    with pytest.raises(MalformedPolicyDocument, match='Version must be "1"'):
        parse_policy(json.dumps({"Version": "2012-10-17", "Statement": []}))


def _trust(*services, effect="Allow") -> str:
    return _doc(
        {"Effect": effect, "Action": "sts:AssumeRole", "Principal": {"Service": list(services)}}
    )


def test_a_trust_policy_trusts_only_the_services_it_names():
    trust = parse_policy(_trust("fc.aliyuncs.com"), trust=True)
    assert trusts_service(trust, "fc.aliyuncs.com")
    assert not trusts_service(trust, "fnf.aliyuncs.com")
    assert not trusts_service(
        parse_policy(_trust("fc.aliyuncs.com", effect="Deny"), trust=True), "fc.aliyuncs.com"
    )


_PATTERNS = st.text("ab/*?", min_size=1, max_size=5)
_STATEMENTS = st.lists(
    st.tuples(
        st.sampled_from(["Allow", "Deny"]),
        st.lists(_PATTERNS, min_size=1, max_size=3),
        st.lists(_PATTERNS, min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=5,
)


@given(_STATEMENTS, st.text("ab", min_size=1, max_size=3), st.text("ab/", max_size=6))
def test_the_precompiled_per_action_decision_agrees_with_statement_by_statement(
    raw, action, resource
):
    from localcloud.ram.policy import decide, decision_for

    doc = parse_policy(_doc(*({"Effect": e, "Action": a, "Resource": r} for e, a, r in raw)))
    assert decision_for(doc.statements, action).decide(resource) is decide(
        doc.statements, action, resource
    )


def test_oss_apis_map_to_the_ram_actions_the_oss_docs_name():
    from localcloud.ram.oss_access import required

    uid = "1"
    obj = "acs:oss:*:1:b/k"
    assert required("HeadObject", "b", "k", {}, uid) == [("oss:GetObject", obj)]
    assert required("ListObjectsV2", "b", "", {}, uid) == [("oss:ListObjects", "acs:oss:*:1:b")]
    assert required("CopyObject", "b", "k", {"x-oss-copy-source": "/src/a%2Fb"}, uid) == [
        ("oss:GetObject", "acs:oss:*:1:src/a/b"),
        ("oss:PutObject", obj),
    ]
    assert required("UploadPartCopy", "b", "k", {"x-oss-copy-source": "/src/x?versionId=v1"}, uid)[
        0
    ] == (
        "oss:GetObjectVersion",
        "acs:oss:*:1:src/x",
    )
    assert required("InitiateMultipartUpload", "b", "k", {"x-oss-tagging": "a=1"}, uid) == [
        ("oss:PutObject", obj),
        ("oss:PutObjectTagging", obj),
    ]
    assert required("DeleteObject", "b", "k", {}, uid, {"versionId": "v1"}) == [
        ("oss:DeleteObjectVersion", obj)
    ]
    assert required("GetBucketVersioning", "b", "", {}, uid) == [
        ("oss:GetBucketVersioning", "acs:oss:*:1:b")
    ]
    assert required("ListBuckets", "", "", {}, uid) == [("oss:ListBuckets", "acs:oss:*:1:*")]
