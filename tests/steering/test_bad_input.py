"""Budget periods that name no calendar year (0000) answer 400, never a server error (issue 10 item 5)."""

from __future__ import annotations

import pytest

from steering import budget

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["0000", "0000-Q1", "0000-01"])
def test_year_zero_is_an_invalid_period(text):
    with pytest.raises(budget.InvalidPeriod):
        budget.period_parse(text)


@pytest.mark.parametrize("url", ["/o/acme/budgets/", "/o/acme/p/ml/budget/"])
@pytest.mark.parametrize("period", ["0000", "0000-Q1", "0000-12"])
def test_budget_pages_answer_year_zero_with_a_400(officer_client, project, url, period):
    officer_client.raise_request_exception = False
    assert officer_client.get(url, {"period": period}).status_code == 400


def test_a_budget_put_with_a_json_list_body_answers_400(officer_client, project):
    # A JSON list has no "period" key: the API reads it as no period given, never as a server error.
    officer_client.raise_request_exception = False
    response = officer_client.put("/api/v1/projects/acme/ml/budget", "[]", content_type="application/json")

    assert response.status_code == 400
