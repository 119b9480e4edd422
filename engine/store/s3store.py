"""Stored files in an S3-compatible service (`RECTIFY_FILE_STORE=s3`: MinIO, Ceph, the S3-compatible
clouds) through boto3, for deployments whose files should not live in the database.

Keys are `<prefix><namespace>/<sha[:2]>/<sha>`; an object's LastModified is its last-used time, and
storing existing content again copies the object onto itself to renew it (pruning then spares it).
As on disk, a file is written just before the commit that refers to it; `rectify files prune`
removes what a failed commit left. The bucket must exist: the product does not create it (that takes rights a
deployment's key should not need); an unusable bucket, key or address is reported as StoreUnavailable
naming the setting, by the action that met it and by `rectify doctor`."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

from engine.errors import InvalidInput, StoreUnavailable
from engine.store.filestore import Entry, FileStore, utc_now

if TYPE_CHECKING:
    from engine.config import Settings

_MISSING = {"404", "NoSuchKey", "NotFound"}


@lru_cache(maxsize=8)
def _client(endpoint: str, region: str, access_key: str, secret_key: str):
    """One client per service and credentials (boto3 clients are thread-safe; making one is slow)."""
    import boto3  # loaded only by deployments that use S3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None,
                        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"},
                                      connect_timeout=10, read_timeout=60))


_REFUSED = {"InvalidAccessKeyId": "RECTIFY_S3_ACCESS_KEY", "SignatureDoesNotMatch": "RECTIFY_S3_SECRET_KEY",
            "AccessDenied": "RECTIFY_S3_ACCESS_KEY"}


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code"))


def _missing(exc: Exception) -> bool:
    return _code(exc) in _MISSING


@contextmanager
def _usable(bucket: str, endpoint: str):
    """Errors that say the store itself cannot be used, as one the user can act on."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    try:
        yield
    except EndpointConnectionError as exc:
        raise StoreUnavailable(f"文件库（S3）无法连接：{endpoint or '默认地址'} 不可达，请检查 RECTIFY_S3_ENDPOINT_URL") from exc
    except ClientError as exc:
        code = _code(exc)
        if code == "NoSuchBucket":
            raise StoreUnavailable(f"文件库（S3）的存储桶「{bucket}」不存在：请先在对象存储中创建它，"
                                   "或改正 RECTIFY_S3_BUCKET") from exc
        if code in _REFUSED:
            raise StoreUnavailable(f"文件库（S3）拒绝了访问（{code}）：请检查 {_REFUSED[code]} "
                                   f"及其对存储桶「{bucket}」的权限") from exc
        raise


class S3Store(FileStore):
    kind = "s3"
    page_size = 1000  # objects per listing request (S3's own maximum)

    def __init__(self, client, bucket: str, prefix: str, namespace: str):
        super().__init__(namespace)
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.endpoint = getattr(getattr(client, "meta", None), "endpoint_url", "")

    def _usable(self):
        return _usable(self.bucket, self.endpoint)

    @classmethod
    def from_settings(cls, settings: Settings, namespace: str) -> "S3Store":
        if not settings.s3_bucket:
            raise InvalidInput("文件存储设置有误：RECTIFY_FILE_STORE=s3 时须设置 RECTIFY_S3_BUCKET",
                               {"RECTIFY_S3_BUCKET": ""})
        client = _client(settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key, settings.s3_secret_key)
        return cls(client, settings.s3_bucket, settings.s3_prefix, namespace)

    def _key(self, name: str) -> str:
        return f"{self.prefix}{self.namespace}/{name[:2]}/{name}"

    def _head(self, name: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if _missing(exc):  # (a HEAD answers 404 for a missing bucket too: the write that follows names it)
                return None
            with self._usable():
                raise

    def _put(self, digest: str, content: bytes) -> None:
        key = self._key(digest)
        stored = self._head(digest) is not None
        with self._usable():
            if stored:  # a copy onto itself renews LastModified
                self.client.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                                        MetadataDirective="REPLACE", Metadata={"sha256": digest, "used": utc_now().isoformat()})
            else:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=content, Metadata={"sha256": digest})

    def _fetch(self, sha256: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            with self._usable():
                return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"].read()
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def entries(self) -> Iterator[Entry]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{self.namespace}/", PaginationConfig={"PageSize": self.page_size})
        with self._usable():
            for page in pages:
                for obj in page.get("Contents", []):
                    yield Entry(obj["Key"].rsplit("/", 1)[-1], obj["Size"], obj["LastModified"])

    def _remove(self, name: str, unused_since: datetime | None) -> bool:
        head = self._head(name)
        if head is None or (unused_since is not None and head["LastModified"] > unused_since):
            return False
        with self._usable():
            self.client.delete_object(Bucket=self.bucket, Key=self._key(name))
        return True
