"""Rewrite webhook statuses stored before the SSRF fix: they held raw exception texts ("Connection refused",
"timed out"), which told officers which internal ports answer. Self-contained on purpose: migrations must not
depend on application code that may change later."""

import re

from django.db import migrations

_OK = re.compile(r"ok (\d{3})")
_HTTP_ERROR = re.compile(r"error: HTTP Error (\d{3})\b")


def _generic(status):
    ok = _OK.fullmatch(status)
    if ok:
        return f"delivered (HTTP {ok.group(1)})"
    http_error = _HTTP_ERROR.match(status)
    if http_error:
        code = http_error.group(1)
        return f"failed: HTTP {code}" + (" (redirects are not followed)" if code.startswith("3") else "")
    if status == "error: not an http(s) URL":
        return "refused: not a valid webhook URL"
    return "failed: no answer"


def webhook_status_generic(apps, schema_editor):
    notification = apps.get_model("steering", "BudgetNotification")
    old = notification.objects.filter(webhook_status__regex=r"^(error|ok )")
    for pk, status in old.values_list("pk", "webhook_status").iterator():
        notification.objects.filter(pk=pk).update(webhook_status=_generic(status))


class Migration(migrations.Migration):
    dependencies = [("steering", "0001_initial")]

    operations = [migrations.RunPython(webhook_status_generic, migrations.RunPython.noop, elidable=True)]
