"""Unified view, every policy on crafted files (caught / not caught / suppressed), and the summary."""

from __future__ import annotations

import datetime as dt

import pytest

from file_records.policies.evaluate import (
    FLAG_COLUMNS,
    check_sql,
    evaluation_view,
    policy_flags,
    read_holds,
)
from file_records.policies.model import DEFAULT_HOLDS, PolicyConfigError, load_catalogue, parse_catalogue
from file_records.policies.summary import SUMMARY_COLUMNS, policy_summary
from file_records.policies.unified import UNIFIED_COLUMNS, unified_files

AS_OF = dt.date(2026, 3, 1)
H1 = "a" * 64  # duplicated content, keeper dup-keeper
H2 = "b" * 64  # duplicated content whose keeper is no longer among the files
H3 = "c" * 64  # on the hold list by hash

DXR_SCHEMA = """source_system string, file_id string, file_name string, path string, size bigint, mime_type string,
created_at timestamp, last_modified_at timestamp, content_sha256 string, scan_depth string, datasource_id string,
datasource_name string, connector_type string, labels array<string>, label_ids array<string>,
dlp_labels array<string>, annotator_names array<string>,
entitlements array<struct<id:string,account_type:string,name:string,email:string>>, owner_name string,
owner_email string, created_by_email string, modified_by_email string, snapshot_id string, ingestion_date date,
ingested_at timestamp"""

WS_SCHEMA = """username string, active boolean, source string, path string, object_type string, language string,
size bigint, size_is_exact boolean, size_estimated bigint, modified_at timestamp, object_id bigint, scan_id string,
ingestion_date date, ingested_at timestamp"""

RECENT = dt.datetime(2025, 12, 1)
EVERYONE = [("acc-1", "GROUP", "Everyone", None)]
EVERYONE_EXT = [("acc-2", "GROUP", "Everyone except external users", None)]
LEGAL_TEAM = [("acc-3", "GROUP", "Legal Team", None)]


def ago(days: int) -> dt.datetime:
    return dt.datetime.combine(AS_OF, dt.time(12, 0)) - dt.timedelta(days=days)


def dxr(file_id, path, **kw):
    row = dict(
        source_system="dxr", file_id=file_id, file_name=kw.pop("file_name", path.rsplit("/", 1)[-1]), path=path,
        size=1000, mime_type=None, created_at=dt.datetime(2025, 1, 1), last_modified_at=RECENT,
        content_sha256=None, scan_depth="DISCOVERY_AND_CLASSIFICATION", datasource_id="ds-1",
        datasource_name="Legal SharePoint", connector_type="SHAREPOINT_ONLINE_GRAPH_API", labels=[], label_ids=[],
        dlp_labels=[], annotator_names=[], entitlements=LEGAL_TEAM, owner_name=None,
        owner_email="alice@example.com", created_by_email=None, modified_by_email=None, snapshot_id="snap-1",
        ingestion_date=AS_OF, ingested_at=dt.datetime(2026, 3, 1, 6),
    )
    row.update(kw)
    return row


def ws(path, username="alice@example.com", source="workspace", object_type="FILE", modified=RECENT, size=10):
    return dict(username=username, active=True, source=source, path=path, object_type=object_type,
                language=None, size=size, size_is_exact=True, size_estimated=None, modified_at=modified,
                object_id=1, scan_id="scan-1", ingestion_date=AS_OF, ingested_at=dt.datetime(2026, 3, 1, 6))


DXR_ROWS = [
    # duplicates of H1
    dxr("dup-keeper", "/Docs/report.docx", content_sha256=H1),
    dxr("dup-copy", "/Docs/Copies/report.docx", content_sha256=H1.upper()),
    dxr("dup-held", "/Legal/Matter-42/report.docx", content_sha256=H1),
    dxr("dup-neighbour", "/Legal/Matter-420/report.docx", content_sha256=H1),
    dxr("glob-held", "Finance/Archive/payroll_2023_final (1).xlsx", content_sha256=H1),
    dxr("h2-member", "/Docs/other.docx", content_sha256=H2),
    # retention
    dxr("ret-old", "/Records/2015.pdf", labels=["Records"], last_modified_at=dt.datetime(2015, 6, 1)),
    dxr("ret-new", "/Records/2022.pdf", labels=["Records"], last_modified_at=dt.datetime(2022, 1, 1)),
    dxr("ret-created", "/Records/c.pdf", labels=[" records "], last_modified_at=None,
        created_at=dt.datetime(2012, 1, 1)),
    dxr("ret-keep", "/Records/k.pdf", labels=["Records", "Keep forever"], last_modified_at=dt.datetime(2012, 1, 1)),
    dxr("ret-both", "/Records/b.pdf", labels=["Records", "Permanent", "Legal hold"],
        last_modified_at=dt.datetime(2012, 1, 1)),
    dxr("held-by-id", "/Records/id.pdf", labels=["Records"], last_modified_at=dt.datetime(2012, 1, 1)),
    dxr("held-by-hash", "/Records/h.pdf", labels=["Records"], last_modified_at=dt.datetime(2012, 1, 1),
        content_sha256=H3),
    dxr("plain-old", "/Docs/plain.docx", last_modified_at=dt.datetime(2018, 1, 1)),
    # rot
    dxr("rot-label", "/Docs/rot.docx", labels=["ROT"]),
    dxr("rot-tmp", "/Docs/draft.TMP"),
    dxr("rot-office", "/Docs/~$budget.xlsx"),
    dxr("rot-thumbs", "/Pics/Thumbs.db"),
    dxr("not-rot", "/Docs/budget.xlsx"),
    # stale
    dxr("stale-2411", "/Docs/s.docx", last_modified_at=ago(2411)),
    dxr("stale-edge", "/Docs/e.docx", last_modified_at=ago(1825)),
    # oversized
    dxr("big", "/Media/big.mp4", size=6 * 1024**3),
    dxr("edge-size", "/Media/edge.mp4", size=5 * 1024**3),
    # orphaned
    dxr("orph-inactive", "/Docs/o1.docx", owner_email="Gone@Example.com"),
    dxr("orph-unknown", "/Docs/o2.docx", owner_email="stranger@example.com"),
    dxr("owner-active", "/Docs/o3.docx", owner_email="Alice@Example.COM"),
    dxr("owner-name-only", "/Docs/o4.docx", owner_email=None, owner_name="Dana Ruiz"),
    # sensitive + exposed
    dxr("sens-dlp", "/Docs/s1.xlsx", dlp_labels=["Highly Confidential"], entitlements=EVERYONE),
    dxr("sens-label", "/Docs/s2.xlsx", labels=["Confidential"], entitlements=EVERYONE_EXT),
    dxr("sens-annot", "/Docs/s3.xlsx", annotator_names=["IBAN"], entitlements=EVERYONE),
    dxr("sens-private", "/Docs/s4.xlsx", dlp_labels=["Confidential"], entitlements=LEGAL_TEAM),
    dxr("open-clean", "/Docs/s5.xlsx", entitlements=EVERYONE),
    dxr("no-entitlements", "/Docs/s6.xlsx", dlp_labels=["Confidential"], entitlements=None),
]

WS_ROWS = [
    ws("/Users/alice@example.com/old.py", modified=dt.datetime(2018, 1, 1)),
    ws("/Users/bob@example.com/nb", username="bob@example.com"),
    ws("/Users/alice@example.com/proj", object_type="DIRECTORY"),
    ws("/Users/bob@example.com/data.csv", username="bob@example.com", source="dbfs"),
    ws("/Shared/team/huge.parquet", size=7 * 1024**3),
]


@pytest.fixture(scope="module")
def frames(spark):
    dxr_df = spark.createDataFrame(DXR_ROWS, DXR_SCHEMA)
    ws_df = spark.createDataFrame(WS_ROWS, WS_SCHEMA)
    dup_df = spark.createDataFrame(
        [(H1, 5, 5000, 4000, "dup-keeper", "/Docs/report.docx", ["/Docs/report.docx"]),
         (H2, 2, 2000, 1000, "gone", "/Docs/gone.docx", ["/Docs/gone.docx"])],
        "content_sha256 string, copies int, total_bytes bigint, reclaimable_bytes bigint, keeper_file_id string,"
        " keeper_path string, member_paths array<string>",
    )
    users_df = spark.createDataFrame(
        [("ALICE@example.com", True), ("gone@example.com", False), ("bob@example.com", False)],
        "username string, active boolean",
    )
    holds_df = spark.createDataFrame(
        [("LH-1", "path_prefix", "/Legal/Matter-42/", "Acme v. Example", "counsel", dt.date(2026, 1, 1)),
         ("LH-2", "path_glob", "/finance/archive/*PAYROLL_2023*", "payroll audit", "rm", None),
         ("LH-3", "file_id", "held-by-id", "", "rm", None),
         ("LH-4", "content_sha256", H3.upper(), "disputed", "rm", None),
         ("LH-5", "path_regex", "ignored", "bad type ignored", "rm", None)],
        "hold_id string, match_type string, value string, reason string, added_by string, added_on date",
    )
    # Local lists go through Python workers on every scan; materialise them once.
    dxr_df, ws_df, dup_df, users_df, holds_df = (
        df.localCheckpoint() for df in (dxr_df, ws_df, dup_df, users_df, holds_df))
    # The example hold list shipped in policies/ is part of the holds table too.
    holds_df = holds_df.unionByName(read_holds(spark, DEFAULT_HOLDS))
    files = unified_files(dxr_df, ws_df)
    return {"dxr": dxr_df, "ws": ws_df, "dup": dup_df, "users": users_df, "holds": holds_df, "files": files}


@pytest.fixture(scope="module")
def flags(frames):
    df = policy_flags(frames["files"], load_catalogue(), frames["dup"], frames["users"], frames["holds"])
    rows = [r.asDict() for r in df.collect()]
    return {"df": df, "rows": rows}


def caught(flags, policy):
    return {r["file_id"]: r for r in flags["rows"] if r["policy"] == policy}


def test_unified_files(frames, spark):
    files = frames["files"]
    assert tuple(files.columns) == UNIFIED_COLUMNS
    rows = {r["file_id"]: r for r in files.collect()}
    assert "workspace:/Users/alice@example.com/proj" not in rows  # directories are not files
    old_py = rows["workspace:/Users/alice@example.com/old.py"]
    assert old_py["source_system"] == "workspace" and old_py["file_name"] == "old.py"
    assert old_py["owner"] == "alice@example.com" and old_py["labels"] == []
    assert old_py["readable_by_everyone"] is None
    assert rows["dbfs:/Users/bob@example.com/data.csv"]["readable_by_everyone"] is True
    assert rows["workspace:/Shared/team/huge.parquet"]["readable_by_everyone"] is True
    assert rows["dbfs:/Users/bob@example.com/data.csv"]["datasource_name"] == "dbfs"
    assert rows["owner-name-only"]["owner"] == "Dana Ruiz"
    assert rows["orph-inactive"]["owner"] == "Gone@Example.com"
    assert rows["ret-old"]["classification"] == "Records"
    assert rows["ret-created"]["classification"] == "Records"
    assert rows["not-rot"]["classification"] is None
    assert rows["sens-dlp"]["readable_by_everyone"] is True
    assert rows["sens-label"]["readable_by_everyone"] is True
    assert rows["sens-private"]["readable_by_everyone"] is False
    assert rows["no-entitlements"]["readable_by_everyone"] is None
    assert rows["dup-copy"]["content_sha256"] == H1  # normalised to lower case
    # either source may be missing; the schema is the same
    only_dxr = unified_files(frames["dxr"], None)
    only_ws = unified_files(None, frames["ws"])
    nothing = unified_files(None, None, spark=spark)
    def shape(df):
        return [(f.name, f.dataType) for f in df.schema.fields]

    assert shape(only_dxr) == shape(only_ws) == shape(nothing) == shape(files)
    assert nothing.count() == 0 and only_ws.count() == 4


def test_flag_columns_and_detected_on(flags):
    assert tuple(flags["df"].columns) == FLAG_COLUMNS
    assert {r["detected_on"] for r in flags["rows"]} == {AS_OF}
    assert {r["policy"] for r in flags["rows"]} == {
        "duplicate", "retention", "rot", "stale", "oversized", "orphaned", "sensitive_exposed", "legal_hold",
        "keep_forever"}
    # one row per file and policy
    keys = [(r["source_system"], r["file_id"], r["policy"]) for r in flags["rows"]]
    assert len(keys) == len(set(keys))


def test_duplicate(flags):
    dup = caught(flags, "duplicate")
    assert set(dup) == {"dup-copy", "dup-held", "dup-neighbour", "glob-held"}  # not the keeper, not H2
    assert dup["dup-copy"]["suppressed_by"] is None
    assert dup["dup-copy"]["action"] == "archive" and dup["dup-copy"]["severity"] == "low"
    assert dup["dup-copy"]["reason"] == "one of 5 copies of content aaaaaaaaaaaa…; the keeper is /Docs/report.docx"
    # suppressed by the hold list (path prefix, glob), but the row stays
    assert dup["dup-held"]["suppressed_by"] == "legal_hold"
    assert dup["glob-held"]["suppressed_by"] == "legal_hold"
    assert dup["dup-neighbour"]["suppressed_by"] is None  # /Legal/Matter-420 is not under /Legal/Matter-42


def test_duplicate_per_run_needs_the_keeper_in_the_same_run(spark):
    """Over several runs (the policy summary's history), a group's keeper must be among the files of
    the group's own run: a keeper seen only on another day makes no file a copy."""
    day1, day2 = AS_OF - dt.timedelta(days=1), AS_OF
    files = unified_files(spark.createDataFrame([
        dxr("keeper", "/Docs/a.docx", content_sha256=H1, ingestion_date=day1),
        dxr("copy", "/Docs/b.docx", content_sha256=H1, ingestion_date=day1),
        dxr("copy", "/Docs/b.docx", content_sha256=H1, ingestion_date=day2),
        dxr("other-copy", "/Docs/c.docx", content_sha256=H1, ingestion_date=day2),
    ], DXR_SCHEMA), None)
    groups = spark.createDataFrame(
        [(H1, 2, "keeper", "/Docs/a.docx", day1), (H1, 2, "keeper", "/Docs/a.docx", day2)],
        "content_sha256 string, copies int, keeper_file_id string, keeper_path string, ingestion_date date",
    )
    duplicate = [p for p in load_catalogue().policies if p.name == "duplicate"]
    rows = policy_flags(files, duplicate, groups, per_run=True).collect()
    assert {(r.file_id, r.detected_on) for r in rows} == {("copy", day1)}


def test_retention(flags):
    ret = caught(flags, "retention")
    assert set(ret) == {"ret-old", "ret-created", "ret-keep", "ret-both", "held-by-id", "held-by-hash"}
    assert ret["ret-old"]["action"] == "delete" and ret["ret-old"]["suppressed_by"] is None
    assert ret["ret-old"]["reason"] == "Records last changed 2015-06-01, 10.8 years ago (retention 7 years)"
    assert "2012-01-01" in ret["ret-created"]["reason"]
    assert ret["ret-keep"]["suppressed_by"] == "keep_forever"
    assert ret["ret-both"]["suppressed_by"] == "legal_hold"  # a hold outranks a keep
    assert ret["held-by-id"]["suppressed_by"] == "legal_hold"
    assert ret["held-by-hash"]["suppressed_by"] == "legal_hold"


def test_rot(flags):
    rot = caught(flags, "rot")
    assert {"rot-label", "rot-tmp", "rot-office", "rot-thumbs"} <= set(rot)
    assert "not-rot" not in rot and "dup-copy" not in rot
    assert rot["rot-label"]["reason"] == "labelled ROT"
    assert rot["rot-tmp"]["reason"] == "trivial file name draft.TMP"
    assert "ret-old" in rot and "obsolete: untouched since 2015-06-01" in rot["ret-old"]["reason"]
    assert "plain-old" not in rot  # 2018: under 10 years


def test_rot_name_patterns_spread_into_like_any(frames):
    # The packaged rot policy writes its patterns out ({trivial_name_patterns*}, LIKE ANY): one
    # pattern still catches by name, and with none the other ROT tests still run.
    rot = load_catalogue().get("rot")
    assert "LIKE ANY ('~$%', " in rot.predicate_sql

    def rot_flags(patterns):
        df = policy_flags(frames["files"], [rot.with_parameters(trivial_name_patterns=patterns)])
        return {r["file_id"]: r["reason"] for r in df.collect()}

    only_tmp = rot_flags(["%.tmp"])
    assert only_tmp["rot-tmp"] == "trivial file name draft.TMP"
    assert "rot-thumbs" not in only_tmp and "rot-label" in only_tmp
    none = rot_flags([])
    assert "rot-tmp" not in none and none["rot-label"] == "labelled ROT"


def test_stale(flags):
    stale = caught(flags, "stale")
    assert stale["stale-2411"]["reason"] == "not modified for 2,411 days (limit 1,825)"
    assert "stale-edge" not in stale and "not-rot" not in stale
    assert "plain-old" in stale and "workspace:/Users/alice@example.com/old.py" in stale


def test_oversized(flags):
    big = caught(flags, "oversized")
    assert set(big) == {"big", "workspace:/Shared/team/huge.parquet"}
    assert big["big"]["reason"] == ("6,442,450,944 bytes (6.00 GiB), limit 5,368,709,120 bytes (5.00 GiB)")


def test_orphaned(flags):
    orph = caught(flags, "orphaned")
    assert set(orph) == {"orph-inactive", "orph-unknown", "workspace:/Users/bob@example.com/nb",
                         "dbfs:/Users/bob@example.com/data.csv"}
    assert orph["orph-inactive"]["reason"] == "owner Gone@Example.com is an inactive workspace user"
    assert orph["orph-unknown"]["reason"] == "owner stranger@example.com is not a workspace user"


def test_sensitive_exposed(flags):
    sens = caught(flags, "sensitive_exposed")
    assert set(sens) == {"sens-dlp", "sens-label", "sens-annot"}
    assert sens["sens-dlp"]["severity"] == "critical"
    assert sens["sens-dlp"]["reason"] == "readable by an Everyone-style group; DLP labels: Highly Confidential"
    assert sens["sens-annot"]["reason"].endswith("detected: IBAN")


def test_legal_hold_and_keep_forever(flags):
    hold = caught(flags, "legal_hold")
    assert set(hold) == {"dup-held", "glob-held", "held-by-id", "held-by-hash", "ret-both"}
    assert hold["dup-held"]["reason"] == "hold list: LH-1 (path_prefix /Legal/Matter-42/): Acme v. Example"
    assert hold["held-by-id"]["reason"] == "hold list: LH-3 (file_id held-by-id)"
    assert hold["ret-both"]["reason"] == "labelled Legal hold"
    assert all(r["action"] == "hold" and r["suppressed_by"] is None for r in hold.values())
    keep = caught(flags, "keep_forever")
    assert set(keep) == {"ret-keep", "ret-both"}
    assert keep["ret-both"]["reason"] == "labelled Permanent"
    # non-destructive flags are never suppressed
    assert all(r["suppressed_by"] is None for r in flags["rows"] if r["action"] not in ("archive", "delete"))


def test_a_file_on_several_holds_lists_each_once_in_order(spark):
    files = unified_files(spark.createDataFrame([
        dxr("multi", "/Legal/Matter-42/x.docx", content_sha256=H3),
        dxr("none", "/Docs/x.docx", content_sha256=H1),
        {**dxr("no-path", "/tmp"), "path": None},
    ], DXR_SCHEMA), None)
    holds = spark.createDataFrame(
        [("LH-9", "file_id", "multi", "", "rm", None), ("LH-1", "path_glob", "/legal/*/X.DOCX", "", "rm", None),
         ("LH-5", "content_sha256", H3, "", "rm", None), ("LH-2", "path_prefix", "/Legal", "", "rm", None),
         ("LH-2", "path_prefix", "/Legal", "", "rm", None)],
        "hold_id string, match_type string, value string, reason string, added_by string, added_on date",
    )
    rows = {r.file_id: r for r in evaluation_view(files, holds_df=holds).collect()}
    assert rows["multi"].hold_ids == ["LH-1", "LH-2", "LH-5", "LH-9"]
    assert rows["multi"].hold_reasons == [
        "LH-1 (path_glob /legal/*/X.DOCX)", "LH-2 (path_prefix /Legal)", f"LH-5 (content_sha256 {H3})",
        "LH-9 (file_id multi)",
    ]
    assert rows["none"].hold_ids == [] and rows["none"].hold_reasons == []
    assert rows["no-path"].hold_ids == []


def test_missing_inputs_skip_policies(frames, spark):
    sc = spark.sparkContext
    sc.setJobGroup("policy-flags-lazy", "must not run jobs")
    try:
        df = policy_flags(frames["files"], load_catalogue(), None, None, None)
        assert sc.statusTracker().getJobIdsForGroup("policy-flags-lazy") == []  # lazy: no action ran
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    policies = {r["policy"] for r in df.select("policy").distinct().collect()}
    assert "orphaned" not in policies and "duplicate" not in policies
    assert "stale" in policies
    # without holds the held duplicate is no longer suppressed... and no longer a duplicate (no dup table)
    ret = {r["file_id"]: r["suppressed_by"] for r in df.where("policy = 'retention'").collect()}
    assert ret["held-by-id"] is None and ret["ret-both"] == "legal_hold"


def test_hold_file_from_csv(flags, spark):
    assert read_holds(spark, DEFAULT_HOLDS).count() == 4
    hold = caught(flags, "legal_hold")
    # Finance/Archive/*payroll_2023* from the example CSV matches alongside the crafted LH-2 glob
    assert "LH-2026-002 (path_glob Finance/Archive/*payroll_2023*): HMRC payroll audit 2023" in hold["glob-held"]["reason"]
    assert "LH-2 (path_glob /finance/archive/*PAYROLL_2023*): payroll audit" in hold["glob-held"]["reason"]


def test_check_sql(spark):
    check_sql(load_catalogue(), spark)
    base = {"version": 1, "policies": [{"name": "bad", "description": "d", "action": "review", "severity": "low",
                                        "predicate": "no_such_column > 1"}]}
    with pytest.raises(PolicyConfigError) as info:
        check_sql(parse_catalogue(base, source="my.yml"), spark)
    assert "my.yml" in str(info.value) and "'bad'" in str(info.value) and "predicate" in str(info.value)
    base["policies"][0]["predicate"] = "size + 1"
    with pytest.raises(PolicyConfigError, match="boolean"):
        check_sql(parse_catalogue(base), spark)
    base["policies"][0]["predicate"] = "size >"
    with pytest.raises(PolicyConfigError, match="invalid SQL"):
        check_sql(parse_catalogue(base), spark)


def test_policy_flags_names_policy_with_bad_sql(frames):
    bad = {"version": 1, "policies": [{"name": "broken", "description": "d", "action": "review", "severity": "low",
                                       "predicate": "size >"}]}
    with pytest.raises(PolicyConfigError) as info:
        policy_flags(frames["files"], parse_catalogue(bad, source="c.yml"))
    assert "c.yml" in str(info.value) and "'broken'" in str(info.value) and "predicate" in str(info.value)


def test_summary_counts_and_change(spark):
    d1, d2, d3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
    rows = [
        ("dxr", "a", "/a", "Alice@x.com", 10, "duplicate", "archive", "low", "r", None, d1),
        ("dxr", "b", "/b", "alice@x.com", 20, "duplicate", "archive", "low", "r", "legal_hold", d1),
        ("dxr", "c", "/c", "bob@x.com", 5, "stale", "review", "low", "r", None, d1),
        ("dxr", "a", "/a", "alice@x.com", 10, "duplicate", "archive", "low", "r", None, d2),
        ("dxr", "b", "/b", "alice@x.com", 20, "duplicate", "archive", "low", "r", None, d2),
        ("dxr", "d", "/d", None, None, "duplicate", "archive", "low", "r", None, d2),
        ("dxr", "e", "/e", "carol@x.com", 7, "oversized", "review", "medium", "r", None, d3),
    ]
    flags = spark.createDataFrame(
        rows, "source_system string, file_id string, path string, owner string, size bigint, policy string,"
              " action string, severity string, reason string, suppressed_by string, detected_on date")
    summary = policy_summary(flags)
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    got = {(r["policy"], r["detected_on"]): r.asDict() for r in summary.collect()}
    assert set(got) == {("duplicate", d1), ("duplicate", d2), ("duplicate", d3), ("stale", d1), ("stale", d2),
                        ("stale", d3), ("oversized", d3)}
    first = got[("duplicate", d1)]
    assert (first["files"], first["bytes"], first["owners"], first["suppressed_files"]) == (2, 30, 1, 1)
    assert first["files_change"] is None and first["bytes_change"] is None and first["previous_detected_on"] is None
    second = got[("duplicate", d2)]
    assert (second["files"], second["bytes"], second["owners"]) == (3, 30, 1)
    assert (second["files_change"], second["bytes_change"], second["previous_detected_on"]) == (1, 0, d1)
    gone = got[("duplicate", d3)]
    assert (gone["files"], gone["files_change"], gone["bytes_change"]) == (0, -3, -30)
    assert got[("stale", d2)]["files_change"] == -1
    assert got[("oversized", d3)]["files_change"] is None
    assert got[("oversized", d3)]["severity"] == "medium"
