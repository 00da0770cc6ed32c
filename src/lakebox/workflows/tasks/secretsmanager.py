"""``aws-sdk:secretsmanager:<action>`` and ``aws-sdk:sns:<action>``, dispatched through the
API layer's Secrets Manager and SNS operation tables (``lakebox.api.secretsmanager``,
``lakebox.api.sns``) to the lake's secret store and topics, as the execution's principal.
Errors are the SDK integration's names (``SecretsManager.ResourceNotFoundException``,
``Sns.NotFoundException``)."""

from __future__ import annotations

from lakebox.workflows.tasks.aws import register_sdk

register_sdk(
    "secretsmanager",
    (
        "getSecretValue",
        "describeSecret",
        "listSecrets",
        "listSecretVersionIds",
        "createSecret",
        "putSecretValue",
        "updateSecret",
        "updateSecretVersionStage",
        "deleteSecret",
        "restoreSecret",
        "getRandomPassword",
    ),
    prefix="SecretsManager",
)

register_sdk(
    "sns",
    (
        "publish",
        "publishBatch",
        "createTopic",
        "listTopics",
        "getTopicAttributes",
        "subscribe",
        "listSubscriptionsByTopic",
    ),
    prefix="Sns",
)
