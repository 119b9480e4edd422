"""The item page says which sign-offs carry their signer's own signature, and the chain download carries
what a verifier needs (digest, signature, signature_algorithm, certificate, the body's CA)."""
from __future__ import annotations

import json

from helpers import close_immediate_item, new_item, new_round

from engine.store.models import IMMEDIATE


def test_the_item_page_and_the_chain_download_show_personal_signatures(auth, client, engine):
    new_round(engine)
    item = new_item(engine, IMMEDIATE)
    close_immediate_item(engine, item)
    auth.login("周婷")
    page = client.get(f"/items/{item}").get_data(as_text=True)
    assert page.count('class="badge text-bg-light border personal-signature"') == 2
    chain = json.loads(client.get(f"/items/{item}/signatures.json").get_data())
    assert chain["personal_problems"] == [] and len(chain["ca_certificates"]) == 1
    for entry in chain["signatures"]:
        assert entry["signature_algorithm"] == "ecdsa-p256-sha256" and entry["signature"]
        assert entry["certificate"].startswith("-----BEGIN CERTIFICATE-----")
