"""The dispatch seam: unknown services and operations, request type checks, and lakebox
errors leaving as the service's AWS codes."""

from __future__ import annotations

import pytest

from lakebox.api import SERVICES, AwsError, dispatch
from lakebox.api.base import ServiceApi, call, operations
from lakebox.api.context import ServiceContext
from lakebox.errors import EntityNotFoundError, LakeboxError


def test_unknown_service_is_named() -> None:
    with pytest.raises(AwsError) as info:
        dispatch("redshift", "DescribeClusters", {}, ServiceContext())
    assert info.value.code == "UnknownServiceException"
    assert "'redshift'" in str(info.value)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_unknown_operation_is_unknown_operation_exception(service: str) -> None:
    with pytest.raises(AwsError) as info:
        dispatch(service, "FlyToTheMoon", {}, ServiceContext())
    assert info.value.code == "UnknownOperationException"
    assert "FlyToTheMoon" in str(info.value)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_operation_is_one_botocore_knows(service: str) -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    assert set(SERVICES[service].operations) <= set(model.operation_names)


@pytest.mark.parametrize(("service", "code"), [(s, a.invalid) for s, a in SERVICES.items()])
def test_a_request_that_is_not_an_object_is_the_services_invalid_code(
    service: str, code: str
) -> None:
    operation = next(iter(SERVICES[service].operations))
    with pytest.raises(AwsError) as info:
        dispatch(service, operation, ["not", "an", "object"], ServiceContext())
    assert info.value.code == code


def test_a_missing_service_is_service_unavailable() -> None:
    with pytest.raises(AwsError) as info:
        dispatch("athena", "GetQueryExecution", {"QueryExecutionId": "q"}, ServiceContext())
    assert info.value.code == "ServiceUnavailableException"


def test_lakebox_errors_leave_through_the_services_mapping() -> None:
    def handler(request: dict[str, object], context: object) -> dict[str, object]:
        raise EntityNotFoundError("no such thing")

    api = ServiceApi("Test", operations(("Get", handler)), lambda e: f"Mapped{e.code}", "Bad")
    with pytest.raises(AwsError) as info:
        call(api, "Get", {}, None)
    assert (info.value.code, str(info.value)) == ("MappedEntityNotFoundException", "no such thing")
    assert isinstance(info.value, LakeboxError)
    assert isinstance(info.value.__cause__, EntityNotFoundError)
