"""The OSS engine (rule evaluation, apply_rules, quarantine, metrics) and the `guarded` decorator."""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

import file_records.expectations.decorators as decorators
from file_records import datasets
from file_records.expectations.engine import (
    FAILED_RULES_COLUMN,
    METRICS_COLUMNS,
    apply_rules,
    metrics,
    metrics_for,
    quarantine,
    rule_passed,
    with_rule_results,
)
from file_records.expectations.rules import ExpectationConfigError, Rule, load_rules

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(microsecond=0)
SHA = "0123456789abcdef" * 4

ENTITLEMENT = T.StructType(
    [
        T.StructField("id", T.StringType()),
        T.StructField("account_type", T.StringType()),
        T.StructField("name", T.StringType()),
        T.StructField("email", T.StringType()),
    ]
)
# Spark types of the candidate columns; the column names and their order come from the registry.
COLUMN_TYPES: dict[str, T.DataType] = {
    # silver_file_records
    "source_system": T.StringType(),
    "file_id": T.StringType(),
    "file_name": T.StringType(),
    "path": T.StringType(),
    "size": T.LongType(),
    "mime_type": T.StringType(),
    "created_at": T.TimestampType(),
    "last_modified_at": T.TimestampType(),
    "content_sha256": T.StringType(),
    "scan_depth": T.StringType(),
    "metadata_extraction_status": T.StringType(),
    "datasource_id": T.StringType(),
    "datasource_name": T.StringType(),
    "connector_type": T.StringType(),
    "labels": T.ArrayType(T.StringType()),
    "label_ids": T.ArrayType(T.StringType()),
    "dlp_labels": T.ArrayType(T.StringType()),
    "annotator_names": T.ArrayType(T.StringType()),
    "entitlements": T.ArrayType(ENTITLEMENT),
    "owner_name": T.StringType(),
    "owner_email": T.StringType(),
    "created_by_email": T.StringType(),
    "modified_by_email": T.StringType(),
    "raw_json": T.StringType(),
    "parse_error": T.StringType(),
    "source_query": T.StringType(),
    "snapshot_id": T.StringType(),
    "ingestion_date": T.DateType(),
    "ingested_at": T.TimestampType(),
    # silver_workspace_files (path, size, ingestion_date, ingested_at as above)
    "username": T.StringType(),
    "active": T.BooleanType(),
    "source": T.StringType(),
    "object_type": T.StringType(),
    "language": T.StringType(),
    "size_is_exact": T.BooleanType(),
    "size_estimated": T.BooleanType(),
    "modified_at": T.TimestampType(),
    "object_id": T.LongType(),
    "scan_id": T.StringType(),
}


def _schema(dataset: str) -> T.StructType:
    """What the rules see: the dataset's candidate columns (``file_records.datasets``), typed."""
    return T.StructType(
        [T.StructField(name, COLUMN_TYPES[name]) for name in datasets.dataset(dataset).candidate_columns]
    )


SCHEMAS = {name: _schema(name) for name in datasets.DATASETS}

DAY1 = dt.date(2024, 3, 1)
DAY2 = dt.date(2024, 3, 2)


def file_record(**overrides: Any) -> dict[str, Any]:
    row = {
        "source_system": "dxr",
        "file_id": "f-1",
        "file_name": "report.docx",
        "path": "/share/finance/report.docx",
        "size": 1024,
        "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "created_at": dt.datetime(2023, 1, 1, tzinfo=UTC),
        "last_modified_at": dt.datetime(2023, 6, 1, tzinfo=UTC),
        "content_sha256": SHA,
        "scan_depth": "FULL",
        "metadata_extraction_status": "SUCCESS",
        "datasource_id": "ds-1",
        "datasource_name": "Finance share",
        "connector_type": "SMB",
        "labels": ["PII"],
        "label_ids": ["l-1"],
        "dlp_labels": [],
        "annotator_names": ["email"],
        "entitlements": [{"id": "u1", "account_type": "USER", "name": "Alice", "email": "alice@example.com"}],
        "owner_name": "Alice",
        "owner_email": "alice@example.com",
        "created_by_email": "alice@example.com",
        "modified_by_email": "bob@example.com",
        "raw_json": '{"fileId": "f-1"}',
        "parse_error": None,
        "source_query": "*",
        "snapshot_id": "s-1",
        "ingestion_date": DAY1,
        "ingested_at": dt.datetime(2024, 3, 1, 6, 0, tzinfo=UTC),
    }
    row.update(overrides)
    return row


USER = "alice@example.com"


def workspace_file(**overrides: Any) -> dict[str, Any]:
    row = {
        "username": USER,
        "active": True,
        "source": "workspace",
        "path": f"/Users/{USER}/project/etl.py",
        "object_type": "NOTEBOOK",
        "language": "PYTHON",
        "size": 2048,
        "size_is_exact": False,
        "size_estimated": True,
        "modified_at": dt.datetime(2024, 1, 1, tzinfo=UTC),
        "object_id": 42,
        "scan_id": "scan-1",
        "ingestion_date": DAY1,
        "ingested_at": dt.datetime(2024, 3, 1, 6, 0, tzinfo=UTC),
    }
    row.update(overrides)
    return row


BASE_ROW = {"silver_file_records": file_record, "silver_workspace_files": workspace_file}


def frame(spark, dataset: str, rows: list[dict[str, Any]]):
    schema = SCHEMAS[dataset]
    return spark.createDataFrame([tuple(r[f.name] for f in schema.fields) for r in rows], schema)


def rule(name: str, constraint: str, action: str = "drop", dataset: str = "silver_file_records") -> Rule:
    return Rule(name=name, constraint=constraint, action=action, description=name, dataset=dataset)


# ---------------------------------------------------------------- each shipped rule on crafted rows

FR, WS = "silver_file_records", "silver_workspace_files"
JAN, FEB = dt.datetime(2023, 1, 1, tzinfo=UTC), dt.datetime(2023, 2, 1, tzinfo=UTC)

# (dataset, rule, case id, overrides of a valid row, expected to pass)
CASES: list[tuple[str, str, str, dict[str, Any], bool]] = [
    # silver_file_records
    (FR, "json_parsed", "parsed", {"parse_error": None}, True),
    (FR, "json_parsed", "parse_error", {"parse_error": "Unexpected character at 12"}, False),
    (FR, "file_id_present", "present", {"file_id": "f-9"}, True),
    (FR, "file_id_present", "blank", {"file_id": "  "}, False),
    (FR, "file_id_present", "null", {"file_id": None}, False),
    (FR, "path_present", "present", {"path": "/a/b.txt"}, True),
    (FR, "path_present", "empty", {"path": ""}, False),
    (FR, "path_present", "null", {"path": None}, False),
    (FR, "size_not_negative", "zero", {"size": 0}, True),
    (FR, "size_not_negative", "negative", {"size": -1}, False),
    (FR, "size_not_negative", "null", {"size": None}, False),
    (FR, "sha256_format", "hex64", {"content_sha256": SHA}, True),
    (FR, "sha256_format", "null", {"content_sha256": None}, True),
    (FR, "sha256_format", "uppercase", {"content_sha256": SHA.upper()}, False),
    (FR, "sha256_format", "short", {"content_sha256": SHA[:63]}, False),
    (FR, "sha256_format", "not_hex", {"content_sha256": "g" + SHA[1:]}, False),
    (FR, "sha256_format", "empty", {"content_sha256": ""}, False),
    (FR, "modified_not_future", "past", {"last_modified_at": NOW - dt.timedelta(days=1)}, True),
    (FR, "modified_not_future", "hours_ahead", {"last_modified_at": NOW + dt.timedelta(hours=12)}, True),
    (FR, "modified_not_future", "future", {"last_modified_at": NOW + dt.timedelta(days=3)}, False),
    (FR, "modified_not_future", "null", {"last_modified_at": None}, True),
    (
        FR,
        "modified_after_created",
        "after",
        {"created_at": JAN, "last_modified_at": FEB},
        True,
    ),
    (
        FR,
        "modified_after_created",
        "equal",
        {"created_at": JAN, "last_modified_at": JAN},
        True,
    ),
    (
        FR,
        "modified_after_created",
        "before",
        {"created_at": FEB, "last_modified_at": JAN},
        False,
    ),
    (FR, "modified_after_created", "created_null", {"created_at": None}, True),
    (FR, "modified_after_created", "modified_null", {"last_modified_at": None}, True),
    (FR, "datasource_present", "present", {"datasource_id": "ds-2"}, True),
    (FR, "datasource_present", "empty", {"datasource_id": ""}, False),
    (FR, "datasource_present", "null", {"datasource_id": None}, False),
    # silver_workspace_files
    (WS, "user_is_email", "email", {"username": USER}, True),
    (WS, "user_is_email", "plain", {"username": "alice"}, False),
    (WS, "user_is_email", "space", {"username": "al ice@example.com"}, False),
    (WS, "user_is_email", "two_at", {"username": "a@b@example.com"}, False),
    (WS, "user_is_email", "no_dot", {"username": "alice@localhost"}, False),
    (WS, "user_is_email", "null", {"username": None}, False),
    (WS, "path_under_home", "below_home", {}, True),
    (WS, "path_under_home", "home_itself", {"path": f"/Users/{USER}"}, True),
    (WS, "path_under_home", "dbfs", {"source": "dbfs", "path": f"/Users/{USER}/d.csv"}, True),
    (
        WS,
        "path_under_home",
        "dbfs_prefixed",
        {"source": "dbfs", "path": f"dbfs:/Users/{USER}/d.csv"},
        True,
    ),
    (
        WS,
        "path_under_home",
        "prefix_on_workspace",
        {"source": "workspace", "path": f"dbfs:/Users/{USER}/d.csv"},
        False,
    ),
    (WS, "path_under_home", "sibling_prefix", {"path": f"/Users/{USER}.evil/x.py"}, False),
    (WS, "path_under_home", "other_user", {"path": "/Users/bob@example.com/x.py"}, False),
    (WS, "path_under_home", "shared", {"path": "/Shared/x.py"}, False),
    (WS, "path_under_home", "null_path", {"path": None}, False),
    (WS, "path_under_home", "null_user", {"username": None}, False),
    (WS, "size_not_negative", "zero", {"size": 0}, True),
    (WS, "size_not_negative", "negative", {"size": -5}, False),
    (WS, "size_not_negative", "null", {"size": None}, False),
    (WS, "size_exact_or_estimated", "exact", {"size_is_exact": True, "size_estimated": False}, True),
    (WS, "size_exact_or_estimated", "estimated", {"size_is_exact": False, "size_estimated": True}, True),
    (WS, "size_exact_or_estimated", "neither", {"size_is_exact": False, "size_estimated": False}, False),
    (WS, "size_exact_or_estimated", "both_null", {"size_is_exact": None, "size_estimated": None}, False),
    (WS, "size_exact_or_estimated", "one_null", {"size_is_exact": None, "size_estimated": True}, True),
]


@pytest.fixture(scope="module")
def case_results(spark):
    """{(dataset, case index): failed rule names}, one Spark job per dataset."""
    results: dict[tuple[str, int], set[str]] = {}
    for dataset in BASE_ROW:
        indexed = [(i, c) for i, c in enumerate(CASES) if c[0] == dataset]
        rows = [BASE_ROW[dataset](**c[3]) for _, c in indexed]
        df = frame(spark, dataset, rows).withColumn("_case", F.monotonically_increasing_id())
        df = with_rule_results(df, load_rules(dataset))
        collected = df.select(FAILED_RULES_COLUMN).collect()
        for (i, _), row in zip(indexed, collected, strict=True):
            results[(dataset, i)] = set(row[FAILED_RULES_COLUMN])
    return results


def test_every_shipped_rule_has_pass_and_fail_cases():
    for dataset in BASE_ROW:
        for r in load_rules(dataset):
            outcomes = {c[4] for c in CASES if c[0] == dataset and c[1] == r.name}
            assert outcomes == {True, False}, f"{dataset}.{r.name} needs a passing and a failing case"


@pytest.mark.parametrize(
    "index", range(len(CASES)), ids=[f"{c[0].split('_', 1)[1]}-{c[1]}-{c[2]}" for c in CASES]
)
def test_rule_on_crafted_row(case_results, index):
    dataset, name, _, _, should_pass = CASES[index]
    failed = case_results[(dataset, index)]
    assert (name not in failed) == should_pass, f"failed rules: {sorted(failed)}"


def test_valid_base_rows_pass_every_rule(spark):
    for dataset, make in BASE_ROW.items():
        df = with_rule_results(frame(spark, dataset, [make()]), load_rules(dataset))
        assert df.first()[FAILED_RULES_COLUMN] == []


@pytest.mark.parametrize("dataset", sorted(SCHEMAS))
def test_rules_are_null_explicit_boolean(spark, dataset):
    """On a row of all NULLs every constraint is TRUE or FALSE, never NULL, so native Lakeflow
    expectations and the OSS engine agree whatever a runtime does with NULL; and every constraint
    resolves to BOOLEAN against the dataset's input schema."""
    rules = load_rules(dataset)
    schema = SCHEMAS[dataset]
    df = spark.createDataFrame([tuple(None for _ in schema.fields)], schema)
    checked = df.select(*[F.expr(r.constraint).alias(r.name) for r in rules])
    assert all(isinstance(f.dataType, T.BooleanType) for f in checked.schema.fields)
    row = checked.first().asDict()
    assert all(value is not None for value in row.values()), row


def test_null_constraint_result_counts_as_failure(spark):
    df = frame(spark, "silver_file_records", [file_record(size=None), file_record(size=5)])
    rules = [rule("size_positive", "size > 0", "drop")]  # not null-explicit on purpose
    assert [r[0] for r in df.select(rule_passed(rules[0])).collect()] == [False, True]
    assert apply_rules(df, rules).count() == 1


# ---------------------------------------------------------------- apply_rules


def test_apply_rules_warn_keeps_drop_filters_schema_unchanged(spark):
    rows = [
        file_record(file_id="ok"),
        # modified before created: a warn rule only
        file_record(file_id="warn-only", created_at=dt.datetime(2024, 1, 2, tzinfo=UTC)),
        file_record(file_id="bad-size", size=-1),
        file_record(file_id="bad-json", parse_error="boom"),
        file_record(file_id="bad-two", size=None, content_sha256="XYZ"),
    ]
    df = frame(spark, "silver_file_records", rows)
    out = apply_rules(df, load_rules("silver_file_records"))
    assert out.schema == df.schema
    assert sorted(r.file_id for r in out.collect()) == ["ok", "warn-only"]


def test_apply_rules_without_drop_or_fail_is_identity(spark):
    df = frame(spark, "silver_file_records", [file_record(size=-1)])
    out = apply_rules(df, [rule("w", "size >= 0", "warn")])
    assert out.schema == df.schema and out.count() == 1


def test_fail_rule_raises_with_rule_name_and_key(spark):
    rows = [file_record(file_id="good"), file_record(file_id="bad-1", size=-7)]
    df = frame(spark, "silver_file_records", rows)
    rules = [
        rule("path_present", "path IS NOT NULL", "drop"),
        rule("size_never_negative", "size IS NOT NULL AND size >= 0", "fail"),
    ]
    out = apply_rules(df, rules, key_column="file_id")
    assert out.schema == df.schema
    with pytest.raises(Exception) as err:
        out.collect()
    message = str(err.value)
    assert "size_never_negative" in message
    assert "file_id=bad-1" in message
    assert "silver_file_records" in message


def test_fail_rule_checked_on_rows_a_drop_rule_removes(spark):
    df = frame(spark, "silver_file_records", [file_record(file_id="x", path=None, size=-1)])
    rules = [rule("path_present", "path IS NOT NULL", "drop"), rule("size_ok", "size >= 0", "fail")]
    with pytest.raises(Exception, match="size_ok"):
        apply_rules(df, rules).collect()


def test_fail_rule_default_key_and_passing_data(spark):
    df = frame(spark, "silver_workspace_files", [workspace_file(size=-1)])
    rules = [rule("size_ok", "size >= 0", "fail", dataset="silver_workspace_files")]
    # the registry's key of silver_workspace_files is (source, path)
    with pytest.raises(Exception, match=f"source=workspace, path=/Users/{USER}/project/etl.py"):
        apply_rules(df, rules).collect()
    ok = frame(spark, "silver_workspace_files", [workspace_file()])
    assert apply_rules(ok, rules).count() == 1


def test_fail_rule_with_several_key_columns(spark):
    df = frame(spark, "silver_file_records", [file_record(file_id="bad-2", path=None, size=-1)])
    rules = [rule("size_ok", "size >= 0", "fail")]
    with pytest.raises(Exception, match="file_id=bad-2, path=NULL"):
        apply_rules(df, rules, key_column=("file_id", "path")).collect()


def test_fail_rule_without_key_shows_row(spark):
    df = frame(spark, "silver_file_records", [file_record(file_id="row-key", size=-1)])
    r = Rule(name="size_ok", constraint="size >= 0", action="fail", description="x")  # no dataset
    with pytest.raises(Exception, match="row-key"):
        apply_rules(df, [r]).collect()


# ---------------------------------------------------------------- quarantine


def test_quarantine_lists_failed_drop_and_fail_rules(spark):
    rows = [
        file_record(file_id="ok"),
        file_record(file_id="warn-only", created_at=dt.datetime(2024, 1, 2, tzinfo=UTC)),
        file_record(
            file_id="bad-two", size=-1, content_sha256="XYZ", created_at=dt.datetime(2024, 1, 2, tzinfo=UTC)
        ),
        file_record(file_id=None, parse_error="Unexpected end of input", datasource_id=None),
    ]
    df = frame(spark, "silver_file_records", rows)
    q = quarantine(df, load_rules("silver_file_records"), "file_id")
    assert q.columns == df.columns + ["failed_rules", "quarantined_at"]
    assert q.schema["failed_rules"].dataType == T.ArrayType(T.StringType(), True) or q.schema[
        "failed_rules"
    ].dataType == T.ArrayType(T.StringType(), False)
    assert isinstance(q.schema["quarantined_at"].dataType, T.TimestampType)
    got = {r.file_id: r.failed_rules for r in q.collect()}
    assert got == {
        "bad-two": ["size_not_negative", "sha256_format"],  # warn rule modified_after_created not listed
        None: ["json_parsed", "file_id_present", "datasource_present"],
    }
    assert all(r.quarantined_at is not None for r in q.collect())


def test_quarantine_fail_rules_optional_and_timestamp_override(spark):
    df = frame(spark, "silver_file_records", [file_record(file_id="f", size=-1)])
    rules = [rule("size_ok", "size >= 0", "fail"), rule("path_ok", "path IS NOT NULL", "drop")]
    assert [r.failed_rules for r in quarantine(df, rules).collect()] == [["size_ok"]]
    assert quarantine(df, rules, include_fail=False).count() == 0
    q = quarantine(df, rules, timestamp=F.col("ingested_at")).first()
    assert q.quarantined_at == dt.datetime(2024, 3, 1, 6, 0)  # session time zone is UTC


def test_quarantine_and_apply_rules_partition_the_input(spark):
    rows = [file_record(file_id=str(i), size=(i - 3)) for i in range(8)]
    df = frame(spark, "silver_file_records", rows)
    rules = load_rules("silver_file_records")
    kept = {r.file_id for r in apply_rules(df, rules).collect()}
    quarantined = {r.file_id for r in quarantine(df, rules).collect()}
    assert kept.isdisjoint(quarantined) and kept | quarantined == {str(i) for i in range(8)}


# ---------------------------------------------------------------- metrics


def test_metrics_counts_per_date_and_rule(spark):
    rows = [
        file_record(file_id="a"),
        file_record(file_id="b", size=-1),
        file_record(file_id="c", size=None, content_sha256="nope"),
        file_record(file_id="d", ingestion_date=DAY2),
    ]
    df = frame(spark, "silver_file_records", rows)
    rules = load_rules("silver_file_records")
    m = metrics(df, rules, "silver_file_records")
    assert tuple(m.columns) == METRICS_COLUMNS
    types_ = {f.name: f.dataType for f in m.schema.fields}
    assert isinstance(types_["ingestion_date"], T.DateType)
    assert isinstance(types_["passed"], T.LongType) and isinstance(types_["failed"], T.LongType)
    assert isinstance(types_["failure_rate"], T.DoubleType)
    got = {(r.ingestion_date, r.rule): r for r in m.collect()}
    assert len(got) == len(rules) * 2
    size = got[(DAY1, "size_not_negative")]
    assert (size.dataset, size.action, size.passed, size.failed) == ("silver_file_records", "drop", 1, 2)
    assert size.failure_rate == pytest.approx(2 / 3)
    sha = got[(DAY1, "sha256_format")]
    assert (sha.passed, sha.failed) == (2, 1)
    warn = got[(DAY1, "modified_after_created")]
    assert (warn.action, warn.passed, warn.failed, warn.failure_rate) == ("warn", 3, 0, 0.0)
    assert all(got[(DAY2, r.name)].failed == 0 and got[(DAY2, r.name)].passed == 1 for r in rules)


def test_metrics_empty_input_and_no_rules(spark):
    df = frame(spark, "silver_file_records", [file_record()])
    assert metrics(df.limit(0), load_rules("silver_file_records"), "silver_file_records").count() == 0
    none = metrics(df, [], "silver_file_records")
    assert tuple(none.columns) == METRICS_COLUMNS and none.count() == 0


def test_metrics_for_unions_datasets(spark):
    inputs = {
        "silver_file_records": frame(spark, "silver_file_records", [file_record(size=-1)]),
        "silver_workspace_files": frame(spark, "silver_workspace_files", [workspace_file(username="bob")]),
    }
    m = metrics_for(inputs)
    rows = {(r.dataset, r.rule): (r.passed, r.failed) for r in m.collect()}
    assert rows[("silver_file_records", "size_not_negative")] == (0, 1)
    assert rows[("silver_workspace_files", "user_is_email")] == (0, 1)
    assert rows[("silver_workspace_files", "path_under_home")] == (0, 1)  # bob's row is under alice's home
    assert len(rows) == 8 + 4


# ---------------------------------------------------------------- the decorator


class FakeDp(types.SimpleNamespace):
    """Stands in for Lakeflow's `pyspark.pipelines`: records expect_* calls in order."""

    def __init__(self) -> None:
        super().__init__(calls=[])

    def _recorder(self, kind: str):
        def factory(constraints: dict[str, str]):
            def apply(func):
                self.calls.append((kind, dict(constraints), func.__name__))
                return func

            return apply

        return factory

    def expect_all(self, constraints):
        return self._recorder("expect_all")(constraints)

    def expect_all_or_drop(self, constraints):
        return self._recorder("expect_all_or_drop")(constraints)

    def expect_all_or_fail(self, constraints):
        return self._recorder("expect_all_or_fail")(constraints)


def test_is_native_false_on_oss():
    assert decorators.is_native() is False


def test_native_branch_stacks_lakeflow_expectations(monkeypatch):
    fake = FakeDp()
    monkeypatch.setattr(decorators, "dp", fake)
    assert decorators.is_native() is True

    def silver_file_records():
        return "the query"

    decorated = decorators.guarded("silver_file_records")(silver_file_records)
    assert decorated is silver_file_records  # native decorators (fakes) pass the function through
    assert decorated() == "the query"  # no OSS filtering on Databricks
    rules = load_rules("silver_file_records")
    drop = {r.name: r.constraint for r in rules if r.action == "drop"}
    warn = {r.name: r.constraint for r in rules if r.action == "warn"}
    # applied innermost first: expect_all_or_drop, then expect_all (no fail rules shipped)
    assert fake.calls == [
        ("expect_all_or_drop", drop, "silver_file_records"),
        ("expect_all", warn, "silver_file_records"),
    ]
    assert list(drop) == ["json_parsed", "file_id_present", "path_present", "size_not_negative",
                          "sha256_format", "datasource_present"]


def test_native_branch_with_fail_rules(monkeypatch):
    fake = FakeDp()
    monkeypatch.setattr(decorators, "dp", fake)
    rules = [
        {"name": "w", "constraint": "size >= 0", "action": "warn", "description": "w"},
        {"name": "d", "constraint": "path IS NOT NULL", "action": "drop", "description": "d"},
        {"name": "f", "constraint": "file_id IS NOT NULL", "action": "fail", "description": "f"},
    ]
    decorators.guarded("silver_file_records", rules)(lambda: None)
    assert [(kind, c) for kind, c, _ in fake.calls] == [
        ("expect_all_or_fail", {"f": "file_id IS NOT NULL"}),
        ("expect_all_or_drop", {"d": "path IS NOT NULL"}),
        ("expect_all", {"w": "size >= 0"}),
    ]


def test_oss_branch_filters_and_keeps_function_identity(spark):
    rows = [
        workspace_file(path=f"/Users/{USER}/a.py"),
        workspace_file(path="/Shared/b.py"),
        workspace_file(size=-1),
    ]
    df = frame(spark, "silver_workspace_files", rows)

    @decorators.guarded("silver_workspace_files")
    def silver_workspace_files():
        """Docstring kept."""
        return df

    assert silver_workspace_files.__name__ == "silver_workspace_files"  # dp.* uses it as the dataset name
    assert silver_workspace_files.__doc__ == "Docstring kept."
    assert [r.name for r in silver_workspace_files.__expectations__] == [
        "user_is_email", "path_under_home", "size_not_negative", "size_exact_or_estimated"
    ]
    out = silver_workspace_files()
    assert out.schema == df.schema
    assert [r.path for r in out.collect()] == [f"/Users/{USER}/a.py"]


def test_oss_branch_fail_rule_stops_with_key(spark):
    df = frame(spark, "silver_file_records", [file_record(file_id="bad-9", size=-1)])
    rules = [{"name": "size_ok", "constraint": "size >= 0", "action": "fail", "description": "x"}]
    query = decorators.guarded("silver_file_records", rules)(lambda: df)
    with pytest.raises(Exception, match=r"size_ok[\s\S]*file_id=bad-9"):
        query().collect()


def test_guarded_errors():
    with pytest.raises(ExpectationConfigError, match="unknown dataset"):
        decorators.guarded("silver_unknown")
    with pytest.raises(ExpectationConfigError, match="unknown dataset"):
        decorators.guarded("silver_unknown", [])
    with pytest.raises(ExpectationConfigError, match="rule 'x'.*unknown action"):
        decorators.guarded(
            "silver_file_records",
            [{"name": "x", "constraint": "a > 0", "action": "stop", "description": "x"}],
        )
    # placed above @dp.materialized_view (which returns None on OSS)
    with pytest.raises(TypeError, match="BELOW"):
        decorators.guarded("silver_file_records")(None)
