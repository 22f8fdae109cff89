"""The API docs show a real example for every JSON answer and free-form body, and each example fits its schema.

Without examples, Swagger UI and Redoc invent samples such as {"property1": null} (issue 14 item 1); a recorded
example that no longer matches its schema would mislead just as much, so each is validated here.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.urls import reverse
from jsonschema import Draft202012Validator

METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get(reverse("api-schema"), {"format": "json"}).json()


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _media(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for code, response in operation["responses"].items():
                for media_type, media in response.get("content", {}).items():
                    found.append((f"{method.upper()} {path} {code}", media_type, media))
            for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
                found.append((f"{method.upper()} {path} request", media_type, media))
    return found


def _free_form(node: Any, components: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref and ref not in seen:
            return _free_form(components[ref.rsplit("/", 1)[1]], components, seen | {ref})
        if node.get("type") == "object" and "properties" not in node and node.get("additionalProperties", {}) == {}:
            return True
        return any(_free_form(value, components, seen) for value in node.values())
    if isinstance(node, list):
        return any(_free_form(value, components, seen) for value in node)
    return False


def test_every_json_answer_has_an_example(schema):
    answers = [(where, media) for where, media_type, media in _media(schema) if "json" in media_type]
    answers = [(where, media) for where, media in answers if not where.endswith(" request")]
    assert len(answers) > 150  # 30 operations, each with its success and error answers
    assert [where for where, media in answers if "example" not in media] == []


def test_every_free_form_body_has_an_example(schema):
    components = schema["components"]["schemas"]
    missing = [
        (where, media_type)
        for where, media_type, media in _media(schema)
        if _free_form(media["schema"], components) and "example" not in media
    ]
    assert missing == []


def test_every_example_fits_its_schema(schema):
    root = {"components": _json_schema(copy.deepcopy(schema["components"]))}
    problems, checked = [], 0
    for where, media_type, media in _media(schema):
        if "example" not in media or not media_type.endswith("json"):
            continue
        checked += 1
        validator = Draft202012Validator({**root, **_json_schema(media["schema"])})
        problems += [f"{where}: {error.json_path} {error.message}" for error in validator.iter_errors(media["example"])]
    assert checked > 150 and problems == []
