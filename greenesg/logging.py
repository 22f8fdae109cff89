"""Keep raw API tokens out of the logs (the live endpoint has its token in the URL path)."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"ges_ci_[0-9a-f]+_[A-Za-z0-9_\-]+")


class HideTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "ges_ci_" in message:
            record.msg = _TOKEN.sub("ges_ci_…(hidden)", message)
            record.args = ()
        return True


class ClientErrorsWithoutTraceback(logging.Filter):
    """One line per 4xx on django.request: no traceback.

    Django logs a PermissionDenied (403) with the exception attached, so each refusal printed a traceback as if
    it were a crash. A 4xx is the answer working as designed; its line (status and path) is enough. 5xx keep
    their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class SkipLoggedClientErrors(logging.Filter):
    """For the development server's access log: drop 4xx lines, which django.request has already logged.

    Without it, `make run` printed every 403/404 twice ("Not Found: /x" and the request line).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not 400 <= getattr(record, "status_code", 0) < 500
