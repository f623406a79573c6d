"""Generic sync helpers every plugin reuses: declarative units, batched saving of artifacts,
content, content artifacts and remote artifacts, and repository-key deduplication.

Everything here works in batches (one INSERT or SELECT per ~500 rows) with ids generated on
the client (uuid7), so a sync of many thousand units costs a few dozen round trips.
"""

from pulpwood.sync.dedupe import duplicates_validator, replaced_by
from pulpwood.sync.modify import ADD_AND_REMOVE, add_and_remove, after_new_version, new_version
from pulpwood.sync.save import lookup_artifacts, lookup_units, save_artifacts, save_units
from pulpwood.sync.units import ArtifactSpec, Unit

__all__ = [
    "ADD_AND_REMOVE", "add_and_remove", "after_new_version", "new_version",
    "ArtifactSpec", "Unit", "duplicates_validator", "lookup_artifacts", "lookup_units", "replaced_by",
    "save_artifacts", "save_units",
]
