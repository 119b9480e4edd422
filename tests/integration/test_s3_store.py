"""The S3 file store (RECTIFY_FILE_STORE=s3) against a real S3 API: moto's server on a free port of
this machine, spoken to over HTTP by boto3 exactly as MinIO or a cloud would be. The same contract as
the disk and database stores (test_file_store.py), an item's evidence and closure record, pruning,
moving files there with `rectify files migrate`, and backups."""
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tarfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from helpers import FIX, close_immediate_item, do, evidence
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from engine import Engine
from engine.clock import CLOCK
from engine.closure import signing
from engine.closure.records import latest_closure_pdf
from engine.doctor import examine
from engine.errors import InvalidInput, NotFound, StoreUnavailable
from engine.store.backup import backup
from engine.store.file_prune import prune_files
from engine.store.models import EvidenceFile

RECEIPT = b"%PDF-1.4 bank receipt kept in S3"
CREDENTIALS = {"s3_access_key": "rectify-test", "s3_secret_key": "rectify-test-secret", "s3_region": "us-east-1"}


@pytest.fixture(scope="module")
def s3_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(engine, s3_url):
    """The engine's database with its files in a bucket of their own, under the prefix rectify/."""
    bucket = f"rectify-{secrets.token_hex(6)}"
    client = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", aws_access_key_id="rectify-test",
                          aws_secret_access_key="rectify-test-secret")
    client.create_bucket(Bucket=bucket)
    on_s3 = Engine(replace(engine.settings, file_store="s3", s3_endpoint_url=s3_url, s3_bucket=bucket,
                           s3_prefix="rectify/", **CREDENTIALS))
    on_s3.client = client
    yield on_s3
    on_s3.close()


def keys(engine) -> list[str]:
    listed = engine.client.list_objects_v2(Bucket=engine.settings.s3_bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_the_s3_store_keeps_the_contract(s3):
    store = s3.closure_files
    digest = store.put(b"%PDF-1.4 record")
    assert store.put(b"%PDF-1.4 record") == digest == hashlib.sha256(b"%PDF-1.4 record").hexdigest()
    assert keys(s3) == [f"rectify/documents/{digest[:2]}/{digest}"]
    assert store.read(digest, verify=True) == b"%PDF-1.4 record" and store.exists(digest)
    assert not s3.uploads.exists(digest) and list(s3.uploads.entries()) == []
    with pytest.raises(NotFound, match="不在文件库中"):
        s3.uploads.read(digest)
    s3.client.put_object(Bucket=s3.settings.s3_bucket, Key=keys(s3)[0], Body=b"changed behind our back")
    with pytest.raises(NotFound, match="已损坏"):
        store.read(digest, verify=True)
    assert not store.delete(digest, unused_since=datetime.now(timezone.utc) - timedelta(hours=1))
    assert store.delete(digest) and not store.exists(digest) and keys(s3) == []


def test_a_listing_pages_through_many_objects_and_storing_again_renews_a_file(s3):
    store = s3.evidence.files
    store.page_size = 2  # five objects: three listing requests
    digests = sorted(store.put(f"%PDF-1.4 file {n}".encode()) for n in range(5))
    assert [e.name for e in store.entries()] == digests
    before = {e.name: e.used_at for e in store.entries()}
    store.put(b"%PDF-1.4 file 0")  # a copy onto itself: LastModified moves on
    after = {e.name: e.used_at for e in store.entries()}
    renewed = hashlib.sha256(b"%PDF-1.4 file 0").hexdigest()
    assert after[renewed] >= before[renewed] and s3.evidence.files.read(renewed) == b"%PDF-1.4 file 0"


def test_an_item_closes_with_its_evidence_and_record_in_s3(s3, item, tmp_path):
    signing.init_dev_certificate(s3, "市政工程管理处")
    close_immediate_item(s3, item, files=[evidence("回单.pdf", RECEIPT)])
    document, pdf = latest_closure_pdf(s3, item)
    assert pdf.startswith(b"%PDF") and f"rectify/documents/{document['sha256'][:2]}/{document['sha256']}" in keys(s3)
    assert s3.evidence.read(hashlib.sha256(RECEIPT).hexdigest()) == RECEIPT
    assert not (s3.settings.instance_path / "evidence").exists()  # nothing on this machine's disk
    assert examine(s3).ok and examine(s3).checked["files"] == 2

    orphan = s3.uploads.put(b"PK ledger never confirmed")
    with CLOCK.pinned(datetime.now(timezone.utc) + timedelta(hours=25)):
        report = prune_files(s3)
    assert report["removed"]["uploads"]["files"] == 1 and report["files"] == 1 and not s3.uploads.exists(orphan)
    assert len(latest_closure_pdf(s3, item)[1]) == len(pdf)  # what rows name stays

    made = backup(s3, tmp_path / "备份.tar.gz", tmp_path / "密钥.tar.gz")
    assert made["files"] == 2
    with tarfile.open(tmp_path / "备份.tar.gz") as archive:
        assert archive.extractfile(f"files/documents/{document['sha256'][:2]}/{document['sha256']}").read() == pdf


def test_files_move_from_the_instance_folder_to_s3(s3, item):
    disk = Engine(replace(s3.settings, file_store="disk"))
    do(disk, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    env = {**os.environ, "RECTIFY_DATABASE_URL": s3.settings.database_url,
           "RECTIFY_INSTANCE_PATH": str(s3.settings.instance_path), "RECTIFY_FILE_STORE": "s3",
           "RECTIFY_S3_ENDPOINT_URL": s3.settings.s3_endpoint_url, "RECTIFY_S3_BUCKET": s3.settings.s3_bucket,
           "RECTIFY_S3_PREFIX": "rectify/", "RECTIFY_S3_ACCESS_KEY": "rectify-test",
           "RECTIFY_S3_SECRET_KEY": "rectify-test-secret", "RECTIFY_S3_REGION": "us-east-1"}

    def rectify(*args):
        done = subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert examine(s3).findings[0].check == "files"  # the row names a file S3 does not have yet
    first = json.loads(rectify("files", "migrate", "--to", "s3", "--json"))
    assert (first["copied"], first["present"], first["configured"]) == (1, 0, "s3")
    assert json.loads(rectify("files", "migrate", "--to", "s3", "--json"))["present"] == 1
    assert s3.evidence.read(hashlib.sha256(RECEIPT).hexdigest()) == RECEIPT
    assert "未发现问题" in rectify("doctor")
    disk.close()


def test_a_file_store_setting_that_cannot_work_is_named_at_start(engine):
    with pytest.raises(InvalidInput, match="RECTIFY_S3_BUCKET"):
        Engine(replace(engine.settings, file_store="s3"))
    with pytest.raises(InvalidInput, match="只能是 disk、database 或 s3"):
        Engine(replace(engine.settings, file_store="nfs"))


def test_a_bucket_or_key_that_cannot_be_used_is_named_and_nothing_is_written(s3, item, s3_url):
    missing = Engine(replace(s3.settings, s3_bucket=f"rectify-missing-{secrets.token_hex(4)}"))
    with pytest.raises(StoreUnavailable, match="存储桶「rectify-missing-.*」不存在.*RECTIFY_S3_BUCKET"):
        do(missing, item, "fix_task", "张伟", FIX, files=evidence("回单.pdf", RECEIPT))
    with missing.db.reading() as session:
        assert session.execute(select(EvidenceFile)).first() is None  # the completion was rolled back
    assert [f.subject for f in examine(missing).findings] == ["文件库"]
    missing.close()
