"""Synthetic Data X-Ray corpus: determinism, shape, and the mix of realistic / awkward records."""

from __future__ import annotations

import collections
import re
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from file_records.emulators.dxr_corpus import (
    DATASOURCES,
    DEFAULT_NOW,
    DEMO_BAD_RECORD_IDS,
    DEMO_MALFORMED_LINES,
    LABEL_IDS,
    RenderedLines,
    demo_records,
    generate_lines,
    generate_records,
    iter_lines,
    label_classifications,
    render_lines,
)

N = 20_000
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FILE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{20}$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACCOUNT_KEYS = {"id", "accountType", "realmAccountId", "realmKey", "accountSubType", "name", "email"}


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return list(generate_records(N))


def _frac(records, pred) -> float:
    return sum(1 for r in records if pred(r)) / len(records)


def test_same_seed_gives_identical_bytes():
    a = render_lines(generate_records(3000, seed=11))
    b = render_lines(generate_records(3000, seed=11))
    assert a == b


def test_different_seed_gives_different_records():
    a = render_lines(generate_records(500, seed=1))
    b = render_lines(generate_records(500, seed=2))
    assert a != b
    ids_a = {orjson.loads(x)["fileId"] for x in a}
    ids_b = {orjson.loads(x)["fileId"] for x in b}
    assert not ids_a & ids_b


def test_generate_lines_equals_render_of_generate_records():
    lines = generate_lines(4000, seed=5)
    assert isinstance(lines, RenderedLines)
    assert lines == render_lines(generate_records(4000, seed=5))


def test_iter_lines_is_lazy_generate_lines_and_reports_labels():
    stream = iter_lines(1500, seed=5)
    assert stream.labels is None
    lines = list(stream)
    assert lines == generate_lines(1500, seed=5)
    used = {lab["name"] for line in lines for lab in orjson.loads(line)["labels"]}
    assert set(stream.labels) == used
    assert all(stream.labels[name] == LABEL_IDS[name] for name in used)
    assert generate_lines(1500, seed=5).labels == stream.labels
    assert render_lines(generate_records(1500, seed=5)).labels == stream.labels


def test_render_lines_one_object_per_line_without_newline():
    recs = list(generate_records(50))
    lines = render_lines(recs)
    assert len(lines) == 50
    for line, rec in zip(lines, recs, strict=True):
        assert isinstance(line, bytes) and not line.endswith(b"\n") and b"\n" not in line
        assert orjson.loads(line) == rec


def test_now_defaults_to_fixed_date_and_can_be_passed():
    assert DEFAULT_NOW == datetime(2026, 11, 1, tzinfo=timezone.utc)
    default = list(generate_records(300))
    explicit = list(generate_records(300, now=DEFAULT_NOW))
    assert default == explicit
    later = list(generate_records(300, now=DEFAULT_NOW + timedelta(days=400)))
    assert later != default
    assert max(r["lastModifiedAt"] for r in default) <= "2026-11-01T00:00:00Z"
    assert max(r["createdAt"] for r in later) > "2026-11-01T00:00:00Z"


def test_records_are_independent_dicts():
    recs = list(generate_records(200))
    recs[0]["datasource"]["name"] = "mutated"
    recs[0]["entitlements"]["whoCanAccess"][0]["name"] = "mutated"
    assert all(r["datasource"]["name"] != "mutated" for r in recs[1:])
    assert all(a["name"] != "mutated" for r in recs[1:] for a in r["entitlements"]["whoCanAccess"])


def test_record_shape(corpus):
    ds_ids = {d["id"] for d in DATASOURCES}
    for r in corpus:
        for key in ("datasource", "fileName", "fileId", "size", "labels", "entitlements"):
            assert key in r
        assert r["datasource"]["id"] in ds_ids
        assert isinstance(r["datasource"]["connector"]["type"], str)
        assert FILE_ID_RE.match(r["fileId"])
        assert isinstance(r["size"], int) and r["size"] >= 0
        assert TS_RE.match(r["createdAt"]) and TS_RE.match(r["lastModifiedAt"])
        assert r["lastModifiedAt"] >= r["createdAt"]
        assert r["path"].endswith("/" + r["fileName"])
        if "contentSha256" in r:
            assert SHA_RE.match(r["contentSha256"])
        assert r["scanDepth"] in ("DISCOVERY", "DISCOVERY_AND_CLASSIFICATION")
        for lab in r["labels"]:
            assert set(lab) == {"id", "name"} and LABEL_IDS[lab["name"]] == lab["id"]
        for acc in r["entitlements"]["whoCanAccess"]:
            assert set(acc) <= ACCOUNT_KEYS and acc["accountType"] in ("USER", "GROUP")
        for key in ("owner", "createdBy", "modifiedBy"):
            if key in r:
                assert set(r[key]) <= ACCOUNT_KEYS and r[key]["accountType"] == "USER"
        for dlp in r.get("dlpLabels", []):
            assert dlp["dlpSystem"] == "PURVIEW" and dlp["type"] in ("APPLIED", "ASSIGNED")
        for ann in r.get("annotators", []):
            assert {"id", "name", "domain", "uniquePhrases", "annotations"} <= set(ann)
            assert ann["uniquePhrases"] >= len(ann["annotations"])
            for a in ann["annotations"]:
                assert a["phrase"] and all(loc["end"] > loc["start"] for loc in a["locations"])
        if "coordinates" in r:
            assert -90 <= r["coordinates"]["lat"] <= 90 and -180 <= r["coordinates"]["lon"] <= 180


def test_file_ids_unique(corpus):
    assert len({r["fileId"] for r in corpus}) == len(corpus)


def test_six_datasources_of_different_connector_types(corpus):
    types = {d["connector"]["type"] for d in DATASOURCES}
    assert len(DATASOURCES) == 6 and len(types) == 6
    assert {
        "SHAREPOINT_ONLINE_GRAPH_API",
        "NETWORK_DRIVE_SMB",
        "BOX",
        "AMAZON_S3",
        "ONEDRIVE_GRAPH_API",
        "GOOGLE_DRIVE_GOOGLE_WORKSPACE",
    } == types
    assert all(UUID_RE.match(d["id"]) for d in DATASOURCES)
    seen = collections.Counter(r["datasource"]["id"] for r in corpus)
    assert set(seen) == {d["id"] for d in DATASOURCES}
    # ids do not depend on the seed
    other = {r["datasource"]["id"] for r in generate_records(500, seed=99)}
    assert other <= {d["id"] for d in DATASOURCES}


def test_duplicates_by_content_hash(corpus):
    by_hash = collections.defaultdict(list)
    for r in corpus:
        if "contentSha256" in r:
            by_hash[r["contentSha256"]].append(r)
    groups = [g for g in by_hash.values() if len(g) > 1]
    in_groups = sum(len(g) for g in groups) / len(corpus)
    assert 0.10 <= in_groups <= 0.20
    assert max(len(g) for g in groups) <= 5
    for g in groups:
        assert len({r["size"] for r in g}) == 1
        assert len({r["fileId"] for r in g}) == len(g)
    names = [r["fileName"] for g in groups for r in g]
    assert any(" (1)." in n for n in names)
    assert any(n.startswith("Copy of ") for n in names)
    # same name in different folders
    assert any(
        len({r["fileName"] for r in g}) < len(g) and len({r["path"] for r in g}) == len(g) for g in groups
    )


def test_labels_and_rot_candidates(corpus):
    names = collections.Counter(lab["name"] for r in corpus for lab in r["labels"])
    for required in ("ROT", "Records", "Legal hold", "Confidential", "Public"):
        assert names[required] > 0
    assert _frac(corpus, lambda r: r["labels"] == []) > 0.3
    temp = [r for r in corpus if r["fileName"].startswith("~") or r["fileName"].endswith((".tmp", ".bak"))]
    assert any(r["fileName"].startswith("~$") and r["fileName"].endswith(".docx") for r in temp)
    assert any(r["fileName"].endswith(".tmp") for r in temp)
    assert any(r["fileName"].endswith(".bak") for r in temp)
    assert _frac(temp, lambda r: any(lab["name"] == "ROT" for lab in r["labels"])) > 0.5


def test_old_and_new_files(corpus):
    now = "2026-11-01T00:00:00Z"
    assert min(r["createdAt"] for r in corpus) >= "2014-10-31T00:00:00Z"
    assert any(r["createdAt"] < "2016-01-01T00:00:00Z" for r in corpus)
    new = _frac(corpus, lambda r: r["createdAt"] >= "2026-10-02T00:00:00Z")
    assert 0.05 <= new <= 0.2
    assert all(r["lastModifiedAt"] <= now for r in corpus)


def test_unicode_paths_and_names(corpus):
    paths = [r["path"] for r in corpus]
    for needle in ("Zürich", "日本語", "Ωmega"):
        assert any(needle in p for p in paths), needle
    assert any(any(ord(ch) > 0xFFFF for ch in p) for p in paths)  # emoji
    assert any(not r["fileName"].isascii() for r in corpus)


def test_missing_optional_fields(corpus):
    assert 0.07 <= _frac(corpus, lambda r: "contentSha256" not in r) <= 0.13
    discovery = [r for r in corpus if r["scanDepth"] == "DISCOVERY"]
    assert discovery and all("contentSha256" not in r and "annotators" not in r for r in discovery)
    assert 0.5 <= _frac(corpus, lambda r: "owner" not in r) <= 0.7
    assert 0.7 <= _frac(corpus, lambda r: "dlpLabels" not in r) <= 0.9
    classified = [r for r in corpus if r["scanDepth"] == "DISCOVERY_AND_CLASSIFICATION"]
    assert any("annotators" not in r for r in classified)
    assert any(r.get("annotators") == [] for r in classified)
    assert any("metadataExtractionStatus" not in r for r in corpus)
    assert any("extractedMetadata" in r for r in corpus)
    assert any("coordinates" in r for r in corpus)


def test_everyone_group(corpus):
    def everyone(r):
        return any(
            a["accountType"] == "GROUP" and a["name"] == "Everyone" for a in r["entitlements"]["whoCanAccess"]
        )

    assert 0.05 <= _frac(corpus, everyone) <= 0.2


def test_sizes_log_uniform_from_zero_to_gigabytes(corpus):
    sizes = [r["size"] for r in corpus]
    assert min(sizes) == 0
    assert max(sizes) > 1_000_000_000
    assert any(100 <= s < 10_000 for s in sizes)
    assert any(1_000_000 <= s < 100_000_000 for s in sizes)


def test_demo_records_contain_bad_records():
    recs = demo_records()
    assert 480 <= len(recs) <= 520
    assert recs == demo_records()  # deterministic
    by_id = {r["fileId"]: r for r in recs}
    assert set(DEMO_BAD_RECORD_IDS.values()) <= set(by_id)
    assert by_id[DEMO_BAD_RECORD_IDS["negative_size"]]["size"] < 0
    assert not SHA_RE.match(by_id[DEMO_BAD_RECORD_IDS["bad_sha256"]]["contentSha256"])
    r = by_id[DEMO_BAD_RECORD_IDS["modified_before_created"]]
    assert r["lastModifiedAt"] < r["createdAt"]
    assert by_id[DEMO_BAD_RECORD_IDS["modified_in_future"]]["lastModifiedAt"] > "2027-01-01T00:00:00Z"
    assert by_id[DEMO_BAD_RECORD_IDS["empty_path"]]["path"] == ""
    assert "datasource" not in by_id[DEMO_BAD_RECORD_IDS["missing_datasource"]]
    # every demo record is a valid JSON object
    for line in render_lines(recs):
        assert isinstance(orjson.loads(line), dict)
    # good records are all distinct ids
    assert len(by_id) == len(recs)


def test_demo_malformed_lines_are_not_json():
    assert 1 <= len(DEMO_MALFORMED_LINES) <= 2
    for line in DEMO_MALFORMED_LINES:
        assert isinstance(line, bytes) and b"\n" not in line
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(line)


def test_label_classifications():
    data = label_classifications(["ROT", "Public", ("Custom", "11111111-2222-4333-8444-555555555555")])
    assert [d["name"] for d in data] == ["Custom", "Public", "ROT"]
    assert all(d["type"] == "LABEL" for d in data)
    assert data[2]["id"] == LABEL_IDS["ROT"]
    assert data[0]["id"] == "11111111-2222-4333-8444-555555555555"
