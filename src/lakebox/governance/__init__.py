"""Lake Formation: data lake settings, grants, registered locations, LF-tags, data cells
filters and the access log (``lakebox.governance.service.LakeFormationService``). The
Lakehouse builds one per lake (``lake.lakeformation``); the enforcers reach it through
``lakebox.catalog.permissions.LakePermissions``."""
