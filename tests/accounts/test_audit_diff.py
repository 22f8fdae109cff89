"""The audit-log diff helper, on hand-written snapshots (no database)."""

from __future__ import annotations

from greenesg.accounts.audit_diff import changes_text, compact, field_changes, snapshot_text


def lines(before: object, after: object, **kwargs: int) -> list[str]:
    return [str(change) for change in field_changes(before, after, **kwargs)]


def test_it_lists_only_the_fields_that_changed() -> None:
    before = {"name": "ML", "team": "Data", "site_pue": 1.2}
    after = {"name": "ML platform", "team": "Data", "site_pue": 1.3}
    assert lines(before, after) == ["name: ML → ML platform", "site_pue: 1.2 → 1.3"]


def test_a_create_lists_every_field_against_a_dash() -> None:
    assert lines(None, {"slug": "ml", "archived": False}) == ["archived: – → false", "slug: – → ml"]  # alphabetical


def test_a_delete_lists_every_field_going_to_a_dash() -> None:
    assert lines({"kg": 120.5, "period": "2026-Q3"}, None) == ["kg: 120.5 → –", "period: 2026-Q3 → –"]


def test_added_and_removed_keys_are_shown() -> None:
    assert lines({"a": 1, "gone": "x"}, {"a": 1, "new": "y"}) == ["gone: x → –", "new: – → y"]


def test_null_empty_text_and_absent_are_told_apart() -> None:
    assert lines({"a": None, "b": ""}, {"a": "", "b": None, "c": None}) == [
        'a: null → ""',
        'b: "" → null',
        "c: – → null",
    ]


def test_a_bool_that_becomes_a_number_is_a_change() -> None:
    # True == 1 in Python; the trail must still show it.
    assert lines({"flag": True}, {"flag": 1}) == ["flag: true → 1"]


def test_nested_objects_are_compared_key_by_key_under_a_dotted_path() -> None:
    before = {"scopes": {"ingest": True, "read": False}, "limits": {"rate": 10}}
    after = {"scopes": {"ingest": True, "read": True}, "limits": None}
    assert lines(before, after) == ['limits: {"rate": 10} → null', "scopes.read: false → true"]


def test_a_nested_object_that_appears_is_listed_per_key() -> None:
    assert lines({"a": 1}, {"a": 1, "meta": {"by": "olivia", "n": 2}}) == ["meta.by: – → olivia", "meta.n: – → 2"]


def test_lists_are_rendered_compactly_as_json_never_as_python_reprs() -> None:
    result = lines({"projects": ["ml"]}, {"projects": ["ml", "web"], "opts": [{"k": "v"}]})
    assert result == ['opts: – → [{"k": "v"}]', 'projects: ["ml"] → ["ml", "web"]']
    assert not any("'" in line for line in result)


def test_long_values_are_cut_only_when_a_limit_is_given() -> None:
    long = "x" * 50
    assert lines(None, {"note": long}, limit=10) == ["note: – → xxxxxxxxx…"]
    assert lines(None, {"note": long}) == [f"note: – → {long}"]


def test_snapshots_that_are_not_objects_are_one_field() -> None:
    assert lines(["a"], ["a", "b"]) == ['value: ["a"] → ["a", "b"]']
    assert lines(None, None) == []
    assert lines({"a": 1}, {"a": 1}) == []


def test_changes_text_joins_all_changes_on_one_line() -> None:
    assert changes_text({"a": 1, "b": 2}, {"a": 2, "b": 3}) == "a: 1 → 2; b: 2 → 3"


def test_snapshot_text_is_compact_sorted_json() -> None:
    assert snapshot_text({"b": [1, None], "a": "é"}) == '{"a":"é","b":[1,null]}'
    assert snapshot_text(None) == ""
    assert compact({"z": 1, "a": True}) == '{"a": true, "z": 1}'
