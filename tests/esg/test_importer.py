"""CSV/XLSX parsing of the HR and AP-ledger templates: per-cell messages, nothing half-imported."""

from __future__ import annotations

import io

import pytest

from esg.importer import (
    ImportFileError,
    Table,
    ap_ledger_parse,
    metrics_import_parse,
    metrics_template_header,
    table_read,
)
from esg.periods import period_parse
from tests.esg.xlsx_helper import xlsx_bytes


def _csv(text: str, name: str = "hr.csv") -> Table:
    return table_read(name, io.BytesIO(text.encode("utf-8")))


def test_the_template_header_lists_period_then_entered_metrics() -> None:
    header = metrics_template_header()
    assert header[0] == "period" and header[-2:] == ["evidence", "comment"]
    assert "S1-6.headcount" in header and "S1-6.turnover_rate" not in header


def test_a_good_hr_file_gives_values_per_period() -> None:
    table = _csv(
        "\ufeffperiod,S1-6.headcount,S1-6.headcount_female,S1-6.headcount_male,evidence\r\n"
        "2026-Q2,100,40,60,HR system\r\n2026-q3,104,42,62,\r\n"
    )
    plan = metrics_import_parse(table)
    assert plan.errors == []
    assert {p: {k: int(v) for k, v in vals.items()} for p, vals in plan.values.items()} == {
        "2026-Q2": {"S1-6.headcount": 100, "S1-6.headcount_female": 40, "S1-6.headcount_male": 60},
        "2026-Q3": {"S1-6.headcount": 104, "S1-6.headcount_female": 42, "S1-6.headcount_male": 62},
    }
    assert plan.evidence["2026-Q2"] == "HR system"


def test_semicolon_files_read_decimal_commas() -> None:
    plan = metrics_import_parse(_csv("period;S1-16.avg_pay_male;S1-16.avg_pay_female\n2026;41,5;37,25\n"))
    assert plan.errors == [] and float(plan.values["2026"]["S1-16.avg_pay_female"]) == 37.25


def test_one_bad_cell_blocks_the_whole_file_and_each_problem_has_row_and_column() -> None:
    table = _csv(
        "period,S1-6.headcount,S1-6.leavers,S1-8.collective_bargaining_coverage\n"
        "2026-Q2,100,4,30\n2026-Q3,abc,-2,130\n2026-Q5,1,1,1\n"
    )
    plan = metrics_import_parse(table)
    assert plan.values == {}
    found = {(e.row, e.code) for e in plan.errors}
    assert found == {
        (3, "S1-6.headcount"),
        (3, "S1-6.leavers"),
        (3, "S1-8.collective_bargaining_coverage"),
        (4, "period"),
    }
    messages = {e.code: e.message for e in plan.errors}
    assert messages["period"] == "Period must look like 2026 or 2026-Q3, not '2026-Q5'."


def test_unknown_columns_duplicate_periods_and_closed_periods_are_reported() -> None:
    plan = metrics_import_parse(_csv("period,S1-6.headcount,salary\n2026,1,2\n"))
    assert [(e.row, e.code, e.message) for e in plan.errors] == [(1, "salary", "is not a column of this template")]
    plan = metrics_import_parse(_csv("period,S1-6.headcount\n2026,1\n2026,2\n"))
    assert [(e.row, e.message) for e in plan.errors] == [(3, "2026 appears on two rows")]
    plan = metrics_import_parse(_csv("period,S1-6.headcount\n2026-Q1,1\n"), locked={"2026-Q1"})
    assert "closed" in plan.errors[0].message


def test_consistency_checks_run_per_row_with_stored_values() -> None:
    plan = metrics_import_parse(
        _csv("period,S1-6.headcount_female\n2026-Q3,45\n"),
        existing={"2026-Q3": {"S1-6.headcount": 100, "S1-6.headcount_male": 60}},
    )
    assert plan.values == {} and plan.errors[0].row == 2 and "45 + 60 + 0 = 105" in plan.errors[0].message


def test_non_utf8_files_are_refused_with_a_reason() -> None:
    with pytest.raises(ImportFileError, match="not UTF-8"):
        table_read("hr.csv", io.BytesIO("period,S1-6.headcount\nJänner,1\n".encode("cp1252")))


def test_xlsx_files_are_read_from_the_first_sheet() -> None:
    data = xlsx_bytes(
        [
            ["period", "S1-6.headcount", "S1-6.headcount_female", "S1-6.headcount_male", "evidence"],
            ["2026-Q3", 100, 40, 60, "inline:HR export"],
        ]
    )
    plan = metrics_import_parse(table_read("hr.xlsx", io.BytesIO(data)))
    assert plan.errors == [] and int(plan.values["2026-Q3"]["S1-6.headcount"]) == 100
    assert plan.evidence["2026-Q3"] == "HR export"


def test_xlsx_with_a_doctype_is_refused() -> None:
    data = xlsx_bytes([["period"]], extra='<!DOCTYPE x [<!ENTITY a "aaaa">]>')
    with pytest.raises(ImportFileError, match="DOCTYPE"):
        table_read("hr.xlsx", io.BytesIO(data))


def test_a_fake_xlsx_is_refused() -> None:
    with pytest.raises(ImportFileError, match="not an XLSX"):
        table_read("hr.xlsx", io.BytesIO(b"period,x\n"))


AP = (
    "invoice_id,invoice_date,payment_date,amount,due_date\n"
    "A1,2026-07-01,2026-07-31,1000,2026-07-31\n"
    "A2,2026-07-10,2026-08-19,3000,2026-08-09\n"
    "A3,2026-08-01,2026-08-21,6000,\n"
)


def test_an_ap_ledger_gives_unweighted_days_to_pay_and_on_term_share() -> None:
    plan = ap_ledger_parse(_csv(AP), period=period_parse("2026-Q3"))
    assert plan.errors == []
    assert float(plan.values["G1-6.avg_days_to_pay"]) == 30.0
    assert float(plan.values["G1-6.payments_on_term_share"]) == 50.0
    assert plan.invoices == 3 and plan.weighted_days == pytest.approx(27.0)


def test_an_ap_ledger_in_xlsx_with_excel_serial_dates() -> None:
    # 46204 = 2026-07-01, 46234 = 2026-07-31 (Excel's 1900 date system)
    data = xlsx_bytes([["term_start", "payment_date", "amount"], [46204, 46234, 500]])
    plan = ap_ledger_parse(table_read("ap.xlsx", io.BytesIO(data)), period=period_parse("2026"))
    assert plan.errors == [] and float(plan.values["G1-6.avg_days_to_pay"]) == 30.0


def test_bad_ap_rows_get_per_cell_messages() -> None:
    text = (
        "invoice_date,payment_date,amount\n2026-07-10,2026-07-01,100\n2026-07-01,soon,100\n"
        "2026-07-01,2026-10-02,100\n2026-07-01,2026-07-09,-5\n"
    )
    plan = ap_ledger_parse(_csv(text), period=period_parse("2026-Q3"))
    assert plan.values == {}
    assert [(e.row, e.code) for e in plan.errors] == [
        (2, "payment_date"),
        (3, "payment_date"),
        (4, "payment_date"),
        (5, "amount"),
    ]
    assert plan.errors[0].message == "2026-07-01 is before the term start 2026-07-10"
    assert plan.errors[2].message == "2026-10-02 is outside the period 2026-Q3"


def test_an_ap_ledger_without_required_columns_is_refused() -> None:
    plan = ap_ledger_parse(_csv("invoice_date,amount\n2026-07-01,5\n"), period=period_parse("2026-Q3"))
    assert [(e.code, e.message) for e in plan.errors] == [("payment_date", "column is missing from the header")]
