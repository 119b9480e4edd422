"""What the S3 service answers when the store cannot be used at all becomes one message naming the setting
to check (moto, the test server, neither checks keys nor refuses access)."""
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from engine.errors import StoreUnavailable
from engine.store.s3store import _usable


def _answer(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutObject")


@pytest.mark.parametrize("code, setting", [("InvalidAccessKeyId", "RECTIFY_S3_ACCESS_KEY"),
                                           ("SignatureDoesNotMatch", "RECTIFY_S3_SECRET_KEY"),
                                           ("AccessDenied", "RECTIFY_S3_ACCESS_KEY"),
                                           ("NoSuchBucket", "RECTIFY_S3_BUCKET")])
def test_a_refused_key_or_missing_bucket_names_the_setting(code, setting):
    with pytest.raises(StoreUnavailable, match=setting) as refused:
        with _usable("证据桶", "http://minio:9000"):
            raise _answer(code)
    assert "证据桶" in refused.value.message and refused.value.status == 503


def test_an_unreachable_service_names_its_address():
    with pytest.raises(StoreUnavailable, match="http://minio:9000.*RECTIFY_S3_ENDPOINT_URL"):
        with _usable("证据桶", "http://minio:9000"):
            raise EndpointConnectionError(endpoint_url="http://minio:9000")


def test_other_answers_pass_through_unchanged():
    with pytest.raises(ClientError, match="NoSuchKey"):
        with _usable("证据桶", ""):
            raise _answer("NoSuchKey")
