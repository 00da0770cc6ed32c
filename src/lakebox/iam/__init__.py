"""Identity: accounts, users, roles, access keys, passwords and temporary credentials
(``service.IamService``, built by the Lakehouse as ``lake.iam``), AWS Signature Version 4
verification (``sigv4``) and IAM policy evaluation (``policy``). See docs/identity.md.

Importing this package imports nothing else: doors import the modules they need.
"""
