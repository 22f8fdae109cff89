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
