"""Sealed means sealed: the receipt hash gives nothing away, files wait for their envelope,
prices wait for every expert's submitted sheet, and a submitted sheet stays as submitted."""
import hashlib
import json
from decimal import Decimal

import pytest

from erp_core import workflow
from erp_core.errors import Conflict
from erp_core.testing import get_user
from modules.procurement import services
from modules.procurement.models import OFFICER, Envelope
from modules.procurement.tests.conftest import open_tender


def _guess(bid, tech, price):
    return hashlib.sha256(services.canonical(bid.tender.name, bid.vendor.credit_code, bid.submitted_at,
                                             tech, {"price": price})).hexdigest()


def test_the_receipt_hash_cannot_be_used_to_guess_a_sealed_price(app, session, published):
    t = published()
    bid = t.bids[0]
    tech = json.loads(session.query(Envelope).filter_by(bid_id=bid.id, part="technical").one().content)
    price = json.loads(session.query(Envelope).filter_by(bid_id=bid.id, part="price").one().content)
    # an auditor knows tender, bidder, time and (after the opening) the proposal, and tries prices
    known = {k: v for k, v in tech.items() if k != "secret"}
    assert all(_guess(bid, known, f"{p}.00") != bid.receipt_hash for p in range(2_279_990, 2_280_010))
    # each envelope holds its own secret of at least 128 bits, and the receipt covers it
    assert len(bytes.fromhex(tech["secret"])) >= 16 and len(bytes.fromhex(price["secret"])) >= 16
    assert tech["secret"] != price["secret"]
    assert hashlib.sha256(services.canonical(bid.tender.name, bid.vendor.credit_code, bid.submitted_at, tech,
                                             price)).hexdigest() == bid.receipt_hash


def test_secrets_are_revealed_at_the_opening_and_checked_by_verify(app, session, published, travel):
    t = published()
    assert all(not p for _b, p in services.verify(t))
    open_tender(app, session, t, travel)
    opening = [r for r in services.audit.history(session, t) if r.action == "opening"][-1].payload()
    assert set(opening["secrets"]) == {b.name for b in t.bids}          # technical envelopes only
    assert all(not p for _b, p in services.verify(t))
    env = session.query(Envelope).filter_by(bid_id=t.bids[0].id, part="technical").one()
    content = json.loads(env.content)
    content["secret"] = "00" * 16
    env.content = json.dumps(content, ensure_ascii=False)
    session.commit()
    problems = dict(services.verify(t))[t.bids[0]]
    assert len(problems) == 2            # the receipt no longer matches, and the revealed secret differs


def test_bid_files_wait_for_their_envelope_whatever_the_bid_row_says(app, session, client, api_token, published):
    t = published()
    # a bid with a document; then its row claims an opened proposal, as the old PUT allowed
    from modules.procurement.models import Bid, BidFile
    b = t.bids[0]
    session.add(BidFile(bid_id=b.id, filename="方案.pdf", data=b"%PDF-1 sealed"))
    session.query(Bid).filter_by(id=b.id).update({"technical": ""})
    session.commit()
    f = session.query(BidFile).filter_by(bid_id=b.id).one()
    assert client.get(f"/api/v1/bid_desk/file/{f.id}", headers=api_token(OFFICER)).status_code == 409


def test_prices_stay_sealed_until_every_expert_has_submitted_not_only_declared(app, session, published, travel):
    t = published()
    open_tender(app, session, t, travel)
    members = [m.user for m in t.members]
    for user in members:                                   # everyone declares and scores…
        services.declare(t, user, no_conflict=True)
        services.score(t, user, [{"bid": b.label, "criterion": c.id, "points": "10"}
                                 for b in t.bids for c in t.criteria])
    for user in members[:-1]:                              # …but the last one has not submitted
        services.submit_scores(t, user)
    session.commit()
    assert services.can_evaluate(t)                        # a reason why not
    with pytest.raises(Exception):
        workflow.apply(t, "evaluate", by=get_user(app, OFFICER))
    session.rollback()
    assert all(b.price is None for b in t.bids)
    assert session.query(Envelope).filter(Envelope.part == "price", Envelope.opened_at.isnot(None)).count() == 0


def test_a_submitted_sheet_cannot_be_scored_again(app, session, published, travel):
    t = published()
    open_tender(app, session, t, travel)
    user = t.members[0].user
    services.declare(t, user, no_conflict=True)
    rows = [{"bid": b.label, "criterion": c.id, "points": "10"} for b in t.bids for c in t.criteria]
    services.score(t, user, rows)
    services.submit_scores(t, user)
    session.commit()
    with pytest.raises(Conflict):
        services.score(t, user, [dict(r, points="20") for r in rows])
    session.rollback()
    assert {s.points for s in t.members[0].scores} == {Decimal("10")}
