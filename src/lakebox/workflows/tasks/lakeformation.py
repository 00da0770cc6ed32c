"""``aws-sdk:lakeformation:<action>``, dispatched through the API layer's Lake Formation
operation table (``lakebox.api.lakeformation``) as the execution's principal: a workflow
role grants, revokes, tags and filters exactly as far as Lake Formation lets that
principal. Errors are the SDK integration's names (``LakeFormation.EntityNotFoundException``).
"""

from __future__ import annotations

from lakebox.workflows.tasks.aws import register_sdk

register_sdk(
    "lakeformation",
    (
        "grantPermissions",
        "revokePermissions",
        "batchGrantPermissions",
        "batchRevokePermissions",
        "listPermissions",
        "getEffectivePermissionsForPath",
        "registerResource",
        "deregisterResource",
        "describeResource",
        "listResources",
        "updateResource",
        "createLakeFormationOptIn",
        "deleteLakeFormationOptIn",
        "listLakeFormationOptIns",
        "putDataLakeSettings",
        "getDataLakeSettings",
        "createLFTag",
        "getLFTag",
        "updateLFTag",
        "deleteLFTag",
        "listLFTags",
        "addLFTagsToResource",
        "removeLFTagsFromResource",
        "getResourceLFTags",
        "searchTablesByLFTags",
        "searchDatabasesByLFTags",
        "createDataCellsFilter",
        "getDataCellsFilter",
        "updateDataCellsFilter",
        "deleteDataCellsFilter",
        "listDataCellsFilter",
    ),
    prefix="LakeFormation",
)
