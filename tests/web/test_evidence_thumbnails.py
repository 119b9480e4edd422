"""Evidence photos show as thumbnails where a signer judges them (the sign-off page) and on the item page,
each leading to the file; a thumbnail is served only to who may see the item, and only of a picture."""
from __future__ import annotations

import re
from io import BytesIO

from helpers import FIX, do, new_item, new_round, task_id
from PIL import Image

from engine.ledger.detail import item_detail
from engine.store.models import IMMEDIATE
from engine.work.evidence import Upload


def _photo() -> bytes:
    out = BytesIO()
    Image.new("RGB", (2000, 1500), (30, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def test_a_photo_is_seen_as_a_thumbnail_by_the_signer_and_on_the_item(client, auth, engine):
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    do(engine, item, "fix_task", "张伟", FIX, files=(Upload("现场照片.jpg", _photo()), Upload("回单.pdf", b"%PDF-1.4 slip")))
    photo, slip = sorted(item_detail(engine, item)["evidence"], key=lambda e: e["name"] != "现场照片.jpg")
    thumb = f"/items/{item}/evidence/{photo['sha256']}/thumbnail"

    auth.login("李娜")
    page = client.get(f"/tasks/{task_id(engine, item, 'unit_head_review')}").get_data(as_text=True)
    assert re.search(rf'<img class="evidence-thumb" src="{re.escape(thumb)}" alt="现场照片.jpg"', page)
    assert f"/evidence/{slip['sha256']}/thumbnail" not in page  # a PDF is its name only
    assert thumb in client.get(f"/items/{item}").get_data(as_text=True)

    response = client.get(thumb)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert max(Image.open(BytesIO(response.data)).size) <= 480 and len(response.data) < len(_photo())
    assert "max-age" in response.headers["Cache-Control"]
    assert client.get(f"/items/{item}/evidence/{slip['sha256']}/thumbnail").status_code == 404

    auth.logout()
    auth.login("王强")  # another unit's officer
    assert client.get(thumb).status_code == 403
