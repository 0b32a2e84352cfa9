"""How the runner refreshes the graph: one run that the engine orders, unless a flow's plan has a step
the Connect server analyses at once (then layer by layer). No JVM: plans are Spark Connect protos
built by hand."""

from __future__ import annotations

import pyspark.sql.connect.proto as pb2

from file_records.frames import EAGER_RELATIONS
from file_records.local.runner import _named_tables, refresh_plan, relation_kinds

READS = {"bronze": set(), "silver": {"bronze"}, "gold": {"silver", "bronze"}, "other": {"bronze"}}


def _read(table: str) -> pb2.Relation:
    return pb2.Relation(read=pb2.Read(named_table=pb2.Read.NamedTable(unparsed_identifier=table)))


def test_relation_kinds_finds_every_step_of_a_plan():
    plan = pb2.Relation(project=pb2.Project(input=pb2.Relation(
        with_columns=pb2.WithColumns(input=pb2.Relation(set_op=pb2.SetOperation(
            left_input=_read("a"), right_input=_read("b"), by_name=True))))))
    assert relation_kinds(plan) == {"project", "with_columns", "union_by_name", "read"}
    assert relation_kinds(pb2.Relation(set_op=pb2.SetOperation(left_input=_read("a"), right_input=_read("b")))) == {
        "set_op", "read"}
    assert _named_tables(plan) == {"a", "b"}
    assert _named_tables(_read("spark_catalog.default.`c`")) == {"c"}


def test_a_lazy_graph_is_one_run_in_dependency_order():
    kinds = {name: {"read", "project", "filter"} for name in READS}
    runs, why = refresh_plan(READS, kinds)
    assert runs == [["bronze", "other", "silver", "gold"]]
    assert why.startswith("one run")


def test_an_eager_step_anywhere_means_layer_by_layer_and_says_where():
    kinds = {name: {"read", "project"} for name in READS}
    kinds["silver"] = {"read", "with_columns"}
    runs, why = refresh_plan(READS, kinds)
    assert runs == [["bronze"], ["other", "silver"], ["gold"]]
    assert "silver uses with_columns" in why
    assert {"with_columns", "drop", "deduplicate", "union_by_name"} <= EAGER_RELATIONS
