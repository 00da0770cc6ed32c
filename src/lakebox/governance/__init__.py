"""Lake Formation: data lake settings, grants, registered locations, LF-tags, data cells
filters and the access log (``lakebox.governance.service.LakeFormationService``). The
Lakehouse builds one per lake (``lake.lakeformation``); the enforcers reach it through
``lakebox.catalog.permissions.LakePermissions``."""

#: the store's file in the lake's metadata folder; here, not in ``store``, so that asking
#: whether a lake has Lake Formation set up (every statement does) imports nothing more
FILE = "lakeformation.sqlite"
