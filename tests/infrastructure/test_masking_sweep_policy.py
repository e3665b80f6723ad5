"""The masking sweep deletes keyword-index entries of masked terms (issue 15.5): its role may."""

from __future__ import annotations

from tests.infrastructure import template_model as tm


def test_the_masking_sweep_may_find_and_delete_a_calls_search_entries() -> None:
    [sweep] = [f for f in tm.functions() if f.directory == "masking_sweep"]
    granted: dict[str, set[str]] = {}
    for statement in sweep.policy_statements():
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for resource in resources:
            granted.setdefault(str(tm.plain(resource)), set()).update(actions)
    table = next(r for r in granted if "SearchIndexTable" in r and "/index/" not in r)
    by_call = next(r for r in granted if "SearchIndexTable" in r and "/index/" in r)
    assert {"dynamodb:BatchWriteItem", "dynamodb:DeleteItem"} <= granted[table]
    assert "dynamodb:Query" in granted[by_call]
