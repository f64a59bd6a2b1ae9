"""HTML forms apply the same bounds as the API (issue 18.3): ``"1.999"`` in a 2-decimal
field is refused with a translated form error, not rounded to 2.00 (every number, every
generated add/edit form, found through the registry)."""
import pytest
from decimal import Decimal
from flask_babel import force_locale
from sqlalchemy import Numeric, inspect as sa_inspect, select
from werkzeug.datastructures import MultiDict

from erp_core.validation import _base_type


def _view_of(app, cls):
    view = getattr(cls, "_view", None)
    return next((v for v in app.appbuilder.baseviews if type(v) is view), None) if view else None


def _numeric_fields(app):
    """(document, view, form kind, field, scale) for every Numeric column on a generated form."""
    out = []
    for cls in app.extensions["houqin"].documents:
        view = _view_of(app, cls)
        if view is None:
            continue
        columns = {a.key: a.columns[0] for a in sa_inspect(cls).column_attrs}
        for kind, names in (("add", view.add_columns if "add" in view.include_route_methods else []),
                            ("edit", view.edit_columns if "edit" in view.include_route_methods else [])):
            for name in names:
                t = _base_type(columns[name].type) if name in columns else None
                if isinstance(t, Numeric) and t.scale is not None:
                    out.append((cls, view, kind, name, t.scale))
    return out


def _errors(app, view, kind, name, value):
    with app.test_request_context(method="POST", data={name: value}):
        form_class = view.add_form if kind == "add" else view.edit_form
        form = form_class(MultiDict({name: value}))
        form.validate()
        return form[name].errors


def test_every_numeric_form_field_refuses_more_decimals_than_its_column(app):
    fields = _numeric_fields(app)
    money = [f for f in fields if f[4] == 2]
    assert len(money) >= 5, "the registry should yield the money fields of several modules"
    problems = []
    with force_locale("zh_CN"):
        for cls, view, kind, name, scale in fields:
            too_fine = "1." + "9" * (scale + 1)
            errors = _errors(app, view, kind, name, too_fine)
            if not errors or not any(str(scale) in str(e) and "小数" in str(e) for e in errors):
                problems.append(f"{cls.__name__}.{name} ({kind}): {too_fine!r} gave {errors}")
            for fine in ("1." + "9" * scale if scale else "1", "0"):
                if _errors(app, view, kind, name, fine):
                    problems.append(f"{cls.__name__}.{name} ({kind}): {fine!r} refused")
            for bad in ("1e309", "NaN", "10" + "0" * 30):
                if not _errors(app, view, kind, name, bad):
                    problems.append(f"{cls.__name__}.{name} ({kind}): {bad!r} accepted")
    assert not problems, "\n".join(problems)
    print(f"\nform numbers: {len(fields)} numeric form fields ({len(money)} money) in "
          f"{len({f[0] for f in fields})} documents")


def test_html_form_refuses_1_999_and_stores_nothing(app, client, login_as, session):
    from tests.sample_module.models import SampleRequest
    login_as("Sample Clerk")
    resp = client.post("/sample/sample_request/add", data={"title": "t", "ward": "A", "amount": "1.999"},
                       headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 422
    assert "最多 2 位小数" in resp.get_data(as_text=True) or "2 位小数" in resp.get_data(as_text=True)
    assert session.scalars(select(SampleRequest)).all() == []
    resp = client.post("/sample/sample_request/add", data={"title": "t", "ward": "A", "amount": "1.99"})
    assert resp.status_code == 302
    assert session.scalars(select(SampleRequest.amount)).all() == [Decimal("1.99")]
