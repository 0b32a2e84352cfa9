"""Query-language subset: parse errors (400 material) and evaluation semantics on crafted records."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import orjson
import pytest

from file_records.emulators.dxr_corpus import DATASOURCES, generate_lines
from file_records.emulators.dxr_query import QuerySyntaxError, is_match_all, parse_query

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _acc(name, account_type="USER", email=None):
    acc = {
        "id": f"acc-{name}",
        "accountType": account_type,
        "realmAccountId": f"r-{name}",
        "realmKey": "REALM_1",
        "accountSubType": account_type,
        "name": name,
    }
    if email:
        acc["email"] = email
    return acc


# Crafted records. Key facts:
# a1: Everyone appears only as a USER (GROUP is a different element) -> top-level AND matches, nested {} does
# not
#  a2: a GROUP named Everyone -> both match
RECORDS = [
    {
        "fileId": "a1",
        "fileName": "Quarterly Report.PDF",
        "path": "/Shared Documents/Finance/Quarterly Report.PDF",
        "size": 5_000_000,
        "mimeType": "application/pdf",
        "createdAt": "2026-10-20T10:00:00Z",
        "lastModifiedAt": "2026-10-25T08:30:00Z",
        "contentSha256": "a" * 64,
        "datasource": {
            "id": "ds-1",
            "name": "Finance SharePoint",
            "connector": {"type": "SHAREPOINT_ONLINE_GRAPH_API"},
        },
        "labels": [{"id": "l-rot", "name": "ROT"}, {"id": "l-rec", "name": "Records"}],
        "annotators": [
            {
                "id": "an-email",
                "name": "Email address",
                "domain": {"id": "d-pii", "name": "PII"},
                "uniquePhrases": 3,
                "annotations": [{"phrase": "j.doe@acme.example", "locations": [{"start": 1, "end": 19}]}],
            },
            {
                "id": "an-iban",
                "name": "IBAN",
                "domain": {"id": "d-fin", "name": "Financial"},
                "uniquePhrases": 0,
                "annotations": [],
            },
        ],
        "entitlements": {"whoCanAccess": [_acc("Legal Team", "GROUP"), _acc("Everyone", "USER")]},
        "owner": _acc("Dana Ruiz", email="dana.ruiz@example.com"),
    },
    {
        "fileId": "a2",
        "fileName": "payroll_2023_final (1).xlsx",
        "path": "Finance/Archive/payroll_2023_final (1).xlsx",
        "size": 98_304,
        "createdAt": "2023-12-29T16:40:00Z",
        "lastModifiedAt": "2023-12-29T16:40:00Z",
        "datasource": {"id": "ds-2", "name": "Finance NAS", "connector": {"type": "NETWORK_DRIVE_SMB"}},
        "labels": [{"id": "l-conf", "name": "Confidential"}],
        "annotators": [
            {
                "id": "an-person",
                "name": "Person name",
                "domain": {"id": "d-pii", "name": "PII"},
                "uniquePhrases": 5,
                "annotations": [{"phrase": "Dana Ruiz", "locations": [{"start": 5, "end": 14}]}],
            }
        ],
        "entitlements": {"whoCanAccess": [_acc("Everyone", "GROUP")]},
        "coordinates": {"lat": 51.5072, "lon": -0.1276, "alt": 11},
    },
    {
        "fileId": "a3",
        "fileName": "~$budget.docx",
        "path": "/Marketing/Temp/~$budget.docx",
        "size": 162,
        "createdAt": "2015-03-01T00:00:00Z",
        "lastModifiedAt": "2016-01-01T00:00:00Z",
        "datasource": {"id": "ds-3", "name": "Marketing Box", "connector": {"type": "BOX"}},
        "labels": [],
        "entitlements": {"whoCanAccess": [_acc("Lee Park", email="lee.park@example.com")]},
        "scanDepth": "DISCOVERY",
    },
    {
        "fileId": "a4",
        "fileName": "Zürich Büro.docx",
        "path": "/Zürich/日本語/Zürich Büro.docx",
        "size": 0,
        "createdAt": "2026-10-31T23:00:00Z",
        "lastModifiedAt": "2026-10-31T23:30:00Z",
        "datasource": {
            "id": "ds-1",
            "name": "Finance SharePoint",
            "connector": {"type": "SHAREPOINT_ONLINE_GRAPH_API"},
        },
        "labels": [{"id": "l-rot", "name": "ROT"}],
        "extractedMetadata": [
            {"id": "x1", "name": "Contract Value", "value": 250000, "type": "NUMBER"},
            {"id": "x2", "name": "Signed", "value": True, "type": "BOOLEAN"},
        ],
        "entitlements": {"whoCanAccess": []},
    },
    {
        "fileId": "a5",
        "fileName": 'say "hi"\\now*.txt',
        "path": None,
        "size": 2_000_000_000,
        "createdAt": "2020-02-29T12:00:00Z",
        "lastModifiedAt": "2021-06-15T12:00:00Z",
        "datasource": {"id": "ds-2", "name": "Finance NAS", "connector": {"type": "NETWORK_DRIVE_SMB"}},
        "labels": [{"id": "l-lh", "name": "Legal hold"}, {"id": "l-rec", "name": "Records"}],
        "entitlements": {"whoCanAccess": [_acc("Everyone", "GROUP"), _acc("Finance", "GROUP")]},
    },
]


def ids(q: str, records=RECORDS) -> set[str]:
    pred = parse_query(q, NOW)
    return {r["fileId"] for r in records if pred(r)}


ALL = {"a1", "a2", "a3", "a4", "a5"}


@pytest.mark.parametrize(
    "q, expected",
    [
        # exact match is case-insensitive and whole-value
        ('fileName:"quarterly report.pdf"', {"a1"}),
        ('fileName:"Quarterly"', set()),
        # wildcards inside quotes, case-insensitive
        ('fileName:"*REPORT*"', {"a1"}),
        ('fileName:"*.docx"', {"a3", "a4"}),
        ('fileName:"~$*"', {"a3"}),
        ('path:"*Finance/*"', {"a1", "a2"}),
        ('fileName:"*"', ALL),
        ('path:"*"', {"a1", "a2", "a3", "a4"}),  # null path does not match
        ('mimeType:"*"', {"a1"}),
        # unicode
        ('path:"*zürich*"', {"a4"}),
        ('fileName:"ZÜRICH BÜRO.DOCX"', {"a4"}),
        ('path:"*日本語*"', {"a4"}),
        # escapes
        (r'fileName:"say \"hi\"\\now\*.txt"', {"a5"}),
        (r'fileName:"*\"hi\"*"', {"a5"}),
        (r'fileName:"*\**"', {"a5"}),
        # space after the colon is accepted
        ('labels.name: "ROT"', {"a1", "a4"}),
        # nested paths and arrays (ANY element)
        ('datasource.connector.type:"NETWORK_DRIVE_SMB"', {"a2", "a5"}),
        ('labels.id:"l-rec"', {"a1", "a5"}),
        ('annotators.domain.name:"pii"', {"a1", "a2"}),
        ('annotators.annotations.phrase:"*@acme.example"', {"a1"}),
        ('owner.email:"*@example.com"', {"a1"}),
        ('entitlements.whoCanAccess.name:"Everyone"', {"a1", "a2", "a5"}),
        # numbers / booleans matched by their JSON text
        ('size:"162"', {"a3"}),
        ('extractedMetadata.value:"250000"', {"a4"}),
        ('extractedMetadata.value:"TRUE"', {"a4"}),
        # objects never match a term; unknown fields match nothing
        ('datasource:"*"', set()),
        ('noSuchField:"*"', set()),
        ('extractors.name:"*"', set()),
        # boolean operators and precedence NOT > AND > OR
        ('labels.name:"ROT" AND size > 1000', {"a1"}),
        ('labels.name:"ROT" OR labels.name:"Confidential"', {"a1", "a2", "a4"}),
        ('NOT labels.name:"ROT"', {"a2", "a3", "a5"}),
        ('labels.name:"Records" OR labels.name:"ROT" AND size < 1000', {"a1", "a4", "a5"}),
        ('(labels.name:"Records" OR labels.name:"ROT") AND size < 1000', {"a4"}),
        ('NOT labels.name:"ROT" AND NOT labels.name:"Records"', {"a2", "a3"}),
        ('NOT (labels.name:"ROT" OR labels.name:"Records")', {"a2", "a3"}),
        ('NOT NOT fileId:"a1"', {"a1"}),
        # adjacency = AND
        ('labels.name:"ROT" fileName:"*.docx"', {"a4"}),
        ('labels.name:"ROT" NOT fileName:"*.docx"', {"a1"}),
        # top-level array terms intersect (files having both)
        ('labels.name:"Records" AND labels.name:"Legal hold"', {"a5"}),
        # comparisons
        ("size > 1000000", {"a1", "a5"}),
        ("size>=162", {"a1", "a2", "a3", "a5"}),
        ("size < 162", {"a4"}),
        ("size <= 162", {"a3", "a4"}),
        ("size = 0", {"a4"}),
        ("size > 1e6", {"a1", "a5"}),
        ("annotators.uniquePhrases > 3", {"a2"}),
        ("annotators.uniquePhrases > 0", {"a1", "a2"}),
        ("annotators.uniquePhrases = 0", {"a1"}),
        ("coordinates.lat > 51", {"a2"}),
        ("coordinates.lon < -0.1", {"a2"}),
        ("coordinates.alt >= 11", {"a2"}),
        ("createdAt >= 2026-03-12T00:00:00Z", {"a1", "a4"}),
        ("createdAt < 2016-01-01T00:00:00Z", {"a3"}),
        ("createdAt > 2020-02-29T11:00:00+00:00 AND createdAt < 2020-02-29T13:00:00Z", {"a5"}),
        ("createdAt > 2020-02-29T13:30:00+02:00 AND createdAt < 2020-02-29T12:30:00", {"a5"}),
        ("createdAt = 2023-12-29T16:40:00Z", {"a2"}),
        ("createdAt > 2023-12-29T16:40:00.000Z", {"a1", "a4"}),
        # relative dates (now = 2026-11-01T00:00:00Z)
        ("lastModifiedAt > now-30d", {"a1", "a4"}),
        ("lastModifiedAt > now-2h", {"a4"}),
        ("lastModifiedAt > now-90m", {"a4"}),
        ("lastModifiedAt > now-3600s", {"a4"}),
        ("lastModifiedAt > now-1w", {"a1", "a4"}),
        ("lastModifiedAt > now-6d", {"a4"}),
        ("createdAt > now-1M", {"a1", "a4"}),
        ("createdAt < now-10y", {"a3"}),
        ("createdAt < now", ALL),
        ("createdAt > now+1d", set()),
        # nested element match: one element must satisfy everything
        ('entitlements.whoCanAccess: { accountType:"GROUP" AND name:"Everyone" }', {"a2", "a5"}),
        (
            'entitlements.whoCanAccess.accountType:"GROUP" AND entitlements.whoCanAccess.name:"Everyone"',
            {"a1", "a2", "a5"},
        ),
        ('entitlements.whoCanAccess:{name:"Everyone" AND name:"Finance"}', set()),
        (
            'annotators: { (name:"Email address" OR name:"Person name") AND annotations.phrase:"*dana*" }',
            {"a2"},
        ),
        ('annotators:{ name:"IBAN" AND uniquePhrases > 0 }', set()),
        ('annotators:{ name:"Email address" AND uniquePhrases > 0 }', {"a1"}),
        ('labels:{name:"ROT"}', {"a1", "a4"}),
        ('NOT entitlements.whoCanAccess:{accountType:"GROUP" AND name:"Everyone"}', {"a1", "a3", "a4"}),
    ],
)
def test_evaluation(q, expected):
    assert ids(q) == expected


@pytest.mark.parametrize(
    "q",
    [
        "fileName:report",  # unquoted value
        "fileName:*report*",
        'labels.name:"ROT" and size > 1',  # lowercase operators
        'labels.name:"ROT" or size > 1',
        'not labels.name:"ROT"',
        'labels.name:"ROT" And size > 1',
        "createdAt >= 2026-03-12",  # date-only
        "lastModifiedAt > 2026-03",
        "createdAt > 1700000000",
        "size:>=1",  # comparison with colon
        "size:>1000",
        'size > "1000"',  # quoted comparison value
        "size > abc",
        "size > now-1d",
        "fileName > 3",  # comparison on a non-comparable field
        "annotators.name >= 1",
        "_exists_:annotators",
        '_exists_:"annotators"',
        "",  # empty
        "   ",
        'fileName:"abc',  # unbalanced quote
        'fileName:"abc\\',
        '"John Smith"',  # free text
        "John",
        'fileName:"x" AND',
        'AND fileName:"x"',
        'fileName:"x" OR',
        "NOT",
        '(fileName:"x"',
        'fileName:"x")',
        "()",
        "entitlements.whoCanAccess:{}",
        'entitlements.whoCanAccess:{name:"x"',
        "lastModifiedAt > now-7x",
        "lastModifiedAt > now/d",
        "size >",
        'fileName "x"',
        "fileName:",
    ],
)
def test_syntax_errors(q):
    with pytest.raises(QuerySyntaxError) as ei:
        parse_query(q, NOW)
    msg = str(ei.value)
    assert msg.startswith("line 1:")
    assert isinstance(ei.value, ValueError)


def test_error_message_is_antlr_like():
    with pytest.raises(QuerySyntaxError) as ei:
        parse_query('fileName:"*" size:>1000', NOW)
    assert str(ei.value) == "line 1:18 no viable alternative at input 'size:>'"
    with pytest.raises(QuerySyntaxError) as ei:
        parse_query("fileName:report", NOW)
    assert "no viable alternative at input 'fileName:report'" in str(ei.value)


def test_date_only_error_mentions_full_datetime():
    with pytest.raises(QuerySyntaxError) as ei:
        parse_query("createdAt >= 2026-03-12", NOW)
    assert "2026-03-12T00:00:00Z" in str(ei.value)


def test_relative_dates_use_given_now():
    rec = {"fileName": "x", "lastModifiedAt": "2026-10-15T00:00:00Z"}
    assert parse_query("lastModifiedAt > now-30d", NOW)(rec)
    later = datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert not parse_query("lastModifiedAt > now-30d", later)(rec)


def test_month_arithmetic_clamps_day():
    now = datetime(2026, 3, 31, 12, 0, 0, tzinfo=timezone.utc)
    pred = parse_query("createdAt >= now-1M", now)
    assert pred({"createdAt": "2026-02-28T12:00:00Z"})
    assert not pred({"createdAt": "2026-02-28T11:59:59Z"})


def test_unparseable_dates_in_records_do_not_match():
    pred = parse_query("createdAt > 2000-01-01T00:00:00Z", NOW)
    assert not pred({"createdAt": "yesterday"})
    assert not pred({"createdAt": 123})
    assert not pred({})


def test_is_match_all():
    assert is_match_all('fileName:"*"')
    assert is_match_all(' fileName: "*" ')
    assert not is_match_all('fileName:"*x"')
    assert not is_match_all(None)


def test_required_literals_only_from_positive_and_chains():
    lits = parse_query(
        'labels.name:"ROT" AND fileName:"*rep*ort*" AND NOT x:"neg" AND (a:"o1" OR b:"o2")', NOW
    )
    assert sorted(lits.required_literals()) == ["ROT", "ort", "rep"]
    nested = parse_query('entitlements.whoCanAccess:{name:"Everyone"}', NOW)
    assert nested.required_literals() == ["Everyone"]


def test_evaluation_on_generated_corpus_matches_brute_force():
    """The same predicate over decoded records, cross-checked with a hand-written filter."""
    lines = generate_lines(3000, seed=3)
    recs = [orjson.loads(x) for x in lines]
    ds = DATASOURCES[1]["id"]
    pred = parse_query(f'datasource.id:"{ds}" AND size > 1000000 AND NOT labels.name:"ROT"', NOW)
    got = [r["fileId"] for r in recs if pred(r)]
    want = [
        r["fileId"]
        for r in recs
        if r["datasource"]["id"] == ds
        and r["size"] > 1000000
        and not any(x["name"] == "ROT" for x in r["labels"])
    ]
    assert got == want and got
    rng = random.Random(0)
    sample = rng.sample(recs, 50)
    for r in sample:
        assert parse_query(f'fileId:"{r["fileId"]}"', NOW)(r)
