"""Machine profiles of codecarbon runs: each distinct machine description stored once per organisation.

The importer hands over each record's description as JSON text (`ingestion.codecarbon.to_ledger
.machine_descriptions`); `MachineIds` turns the texts into MachineProfile ids, creating the missing profiles. A file
holds few machines, so this is one lookup per new description, not per row.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from greenesg.footprint.models import MachineProfile


def machine_digest(description: str) -> str:
    return hashlib.sha256(description.encode()).hexdigest()


class MachineIds:
    """Machine descriptions → MachineProfile ids in one organisation, remembered for the rest of the import.

    Profiles are created outside the import's publication (the rows being staged need their ids), so a refused file
    can leave a profile that no row uses: it only describes a machine the organisation's own file named.
    """

    def __init__(self, organisation_id: int) -> None:
        self.organisation_id = organisation_id
        self._ids: dict[str, int] = {}

    def ids(self, descriptions: Any) -> Any:
        """One id per description (a pandas Series of JSON texts), as an int64 array in the same order."""
        import numpy as np
        import pandas as pd

        codes, uniques = pd.factorize(descriptions)
        missing = [text for text in uniques if text not in self._ids]
        if missing:
            self._ids.update(self._ensure(missing))
        return np.array([self._ids[text] for text in uniques], dtype=np.int64)[codes]

    def _ensure(self, descriptions: list[str]) -> dict[str, int]:
        by_digest = {machine_digest(text): text for text in descriptions}
        # A concurrent import of the same machine may create it first: the unique digest keeps one.
        MachineProfile.objects.bulk_create(
            [
                MachineProfile(organisation_id=self.organisation_id, digest=digest, attributes=json.loads(text))
                for digest, text in by_digest.items()
            ],
            ignore_conflicts=True,
        )
        found = MachineProfile.objects.filter(organisation_id=self.organisation_id, digest__in=list(by_digest))
        return {by_digest[digest]: pk for digest, pk in found.values_list("digest", "pk")}
