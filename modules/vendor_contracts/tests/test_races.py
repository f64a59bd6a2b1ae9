"""Opening the same assessment month 20 times in parallel: one 201 and 409s naming the
existing month's number, never a 500 (issue 18.2). PostgreSQL only."""
from collections import Counter

import pytest

from erp_core.testing import is_postgres, parallel

N = 20


def test_opening_the_same_month_in_parallel(app, contract, api_token):
    if not is_postgres(app):
        pytest.skip("race tests need PostgreSQL (SQLite serialises writers)")
    inspector = api_token("Inspector")
    name = contract.name

    def hit(i):
        resp = app.test_client().post("/api/v1/assessments/open", headers=inspector,
                                      json={"contract": name, "year": 2026, "month": 3})
        return resp.status_code, (resp.json or {}).get("name") or (resp.json or {}).get("message")
    results = parallel(N, hit)
    assert not [r for r in results if isinstance(r, Exception)], results
    codes = Counter(r[0] for r in results)
    assert codes == {201: 1, 409: N - 1}, results
    number = next(text for code, text in results if code == 201)
    assert all(number in text for code, text in results if code == 409), results
