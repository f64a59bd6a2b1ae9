"""List pages and list APIs at volume, each beside the raw SQL of the same page (count +
the page's rows with their joined relations, on the same connection pool) and beside a
stock Flask-AppBuilder ModelView on the same table (same columns, sort, page size, filter).
In-process (Flask test client), medians; statements per request counted."""
import math

from sqlalchemy import event, func, select

from .common import median_ms, ratio

PAGE = 25


def cases():
    """(document class, [(case, column filters {col: (op, value)}, last page?)])."""
    from modules.catering.models import Order
    from modules.rentals.models import Loan
    from modules.vendor_contracts.models import Assessment
    return [
        (Order, [("first page", {}, False), ("filtered: state = placed", {"workflow_state": ("eq", "placed")}, False),
                 ("search: patient contains 王伟", {"patient_name": ("ct", "王伟")}, False),
                 ("last page", {}, True)]),
        (Loan, [("first page", {}, False), ("filtered: status = open", {"status": ("eq", "open")}, False),
                ("search: borrower contains 张敏", {"borrower_name": ("ct", "张敏")}, False), ("last page", {}, True)]),
        (Assessment, [("first page", {}, False), ("filtered: grade = 良好", {"grade": ("eq", "良好")}, False),
                      ("last page", {}, True)]),
    ]


def _where(cls, filters):
    out = []
    for col, (op, value) in filters.items():
        c = getattr(cls, col)
        out.append(c == value if op == "eq" else c.like(f"%{value}%"))
    return out


def raw_page(session, cls, eager, filters, order, offset):
    """The floor: count(*), then the page's rows with the list's relations joined, as plain SQL."""
    from sqlalchemy.orm import aliased  # noqa: F401  (plain joins suffice: one path each)
    where = _where(cls, filters)
    table = cls.__table__
    count = session.execute(select(func.count()).select_from(table).where(*where)).scalar()
    stmt, joined = select(table), table
    seen = {}
    for path in eager:
        model, frm = cls, table
        for key in path.split("."):
            rel = model.__mapper__.relationships[key]
            target = rel.mapper.class_.__table__
            if target.name not in seen:
                (lc,), (rc,) = rel.local_columns, rel.remote_side
                joined = joined.outerjoin(target, frm.c[lc.name] == target.c[rc.name])
                stmt = stmt.add_columns(*target.c)
                seen[target.name] = target
            model, frm = rel.mapper.class_, target
    col, direction = order
    key = table.c[col]
    stmt = stmt.select_from(joined).where(*where).order_by(key.desc() if direction == "desc" else key.asc(),
                                                           table.c.id.desc() if direction == "desc" else table.c.id)
    return count, session.execute(stmt.offset(offset).limit(PAGE)).all()


class Statements:
    def __init__(self, engine):
        self.engine, self.n = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.n += 1


def stock_app(url, classes):
    """A bare FAB app on the same database with a stock ModelView per class."""
    from flask import Flask
    from flask_appbuilder import AppBuilder, ModelView
    from flask_appbuilder.models.sqla.interface import SQLAInterface
    from erp_core.extensions import db
    app = Flask("stock")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="x" * 32, WTF_CSRF_ENABLED=False,
                      FAB_UPDATE_PERMS=True, AUTH_ROLE_ADMIN="Admin", TESTING=True)
    with app.app_context():
        db.init_app(app)
        ab = AppBuilder()
        ab.init_app(app, db.session)
        for cls in classes:
            view = cls._view
            attrs = dict(datamodel=SQLAInterface(cls), list_columns=list(view.list_columns), page_size=PAGE,
                         base_order=view.base_order, search_columns=list(view.search_columns),
                         route_base=f"/stock/{cls.__tablename__}")
            ab.add_view_no_menu(type(f"Stock{cls.__name__}View", (ModelView,), attrs))
    return app


def _filter_args(view_inst, view_name, filters):
    """``_flt_<i>_<col>=value`` for FAB's equal / contains filter on ``col``."""
    args = []
    for col, (op, value) in filters.items():
        wanted = "FilterEqual" if op == "eq" else "FilterContains"
        flts = view_inst._filters._search_filters[col]
        index = next(i for i, f in enumerate(flts) if type(f).__name__ in (wanted, wanted + "Function"))
        args.append(f"_flt_{index}_{col}={value}")
    return "&".join(args)


def _rison(filters, page):
    import prison
    q = {"page": page, "page_size": PAGE}
    if filters:
        q["filters"] = [{"col": c, "opr": "eq" if op == "eq" else "ct", "value": v} for c, (op, v) in filters.items()]
    return prison.dumps(q)


def run(app, url, admin, password, n=7, log=print):
    """Rows of the results table: [document, rows, case, ours page, ours API, raw SQL, stock FAB, ratios, stmts]."""
    from erp_core.extensions import db
    docs = cases()
    stock = stock_app(url, [cls for cls, _ in docs])
    ours_client, stock_client = app.test_client(), stock.test_client()
    assert ours_client.post("/login/", data={"username": admin, "password": password}).status_code == 302
    assert stock_client.post("/login/", data={"username": admin, "password": password}).status_code == 302
    ours_client.get("/")
    out = []
    with app.app_context():
        engine = db.engine
        views = {type(v): v for v in app.appbuilder.baseviews}
        stock_views = {type(v).__name__: v for v in stock.appbuilder.baseviews}
        for cls, specs in docs:
            view = views[cls._view]
            vname = cls._view.__name__
            total = db.session.scalar(select(func.count()).select_from(cls.__table__))
            order = view.base_order
            for case, filters, last in specs:
                with app.app_context():
                    matches = db.session.scalar(select(func.count()).select_from(cls.__table__)
                                                .where(*_where(cls, filters)))
                page = max(0, math.ceil(matches / PAGE) - 1) if last else 0
                flt = _filter_args(view, vname, filters)
                ours_url = f"{cls._view.route_base}/list/?page_{vname}={page}" + (f"&{flt}" if flt else "")
                api_url = f"/api/v1/{cls._api.resource_name}/?q={_rison(filters, page)}"
                sv = stock_views[f"Stock{cls.__name__}View"]
                stock_url = (f"/stock/{cls.__tablename__}/list/?page_Stock{cls.__name__}View={page}"
                             + (f"&{_filter_args(sv, 'Stock' + cls.__name__ + 'View', filters)}" if flt else ""))

                def get(client, u):
                    r = client.get(u)
                    assert r.status_code == 200, (u, r.status_code, r.data[:300])
                    return r
                with Statements(engine) as st:
                    get(ours_client, ours_url)
                statements = st.n
                t_page = median_ms(lambda: get(ours_client, ours_url), n)
                t_api = median_ms(lambda: get(ours_client, api_url), n)
                with stock.app_context():
                    t_stock = median_ms(lambda: get(stock_client, stock_url), n)

                def floor():
                    with app.app_context():
                        raw_page(db.session, cls, view.datamodel.eager, filters, order, page * PAGE)
                t_raw = median_ms(floor, n)
                row = [cls.__name__, f"{matches:,}/{total:,}", case, t_page, t_api, t_raw, t_stock,
                       t_page / t_raw, t_api / t_raw, t_page / t_stock, statements]
                out.append(row)
                log(f"  {cls.__name__:<11} {case:<32} page {t_page:6.1f} ms  API {t_api:6.1f} ms  raw SQL {t_raw:6.1f} ms"
                    f"  stock FAB {t_stock:6.1f} ms  page/raw {ratio(t_page, t_raw)}  API/raw {ratio(t_api, t_raw)}"
                    f"  page/stock {ratio(t_page, t_stock)}  {statements} statements")
    return out


def deep(app, admin, password, n=7, log=print):
    """The middle of 100,000 meal orders through the list API: by page number (OFFSET, read
    from the nearer end at best) and by cursor (``?after=``, keyset), beside the raw SQL of
    each (OFFSET 50,000 / WHERE (day, id) < last seen)."""
    from sqlalchemy import tuple_
    from erp_core.extensions import db
    from erp_core.permissions import encode_cursor
    from modules.catering.models import Order
    client = app.test_client()
    assert client.post("/login/", data={"username": admin, "password": password}).status_code == 302
    with app.app_context():
        view = next(v for v in app.appbuilder.baseviews if type(v) is Order._view)
        col, direction = view.base_order
        column = Order.__table__.c[col]
        total = db.session.scalar(select(func.count()).select_from(Order.__table__))
        middle = (total // 2 // PAGE) * PAGE
        order = (column.desc(), Order.__table__.c.id.desc()) if direction == "desc" else (column, Order.__table__.c.id)
        before = db.session.execute(select(column, Order.__table__.c.id).order_by(*order)
                                    .offset(middle - 1).limit(1)).one()
        db.session.remove()
    cursor = encode_cursor(before[0], before[1])
    api = f"/api/v1/{Order._api.resource_name}/"
    by_page = median_ms(lambda: client.get(f"{api}?q={_rison({}, middle // PAGE)}"), n)
    by_cursor = median_ms(lambda: client.get(f"{api}?q=(page_size:{PAGE})&after={cursor}"), n)
    resp = client.get(f"{api}?q=(page_size:{PAGE})&after={cursor}").json
    want = client.get(f"{api}?q={_rison({}, middle // PAGE)}").json
    assert resp["ids"] == want["ids"], "the cursor's page differs from the numbered page"

    def raw(keyset):
        with app.app_context():
            t = Order.__table__
            stmt = select(t).order_by(*order).limit(PAGE)
            if keyset:
                key = tuple_(column, t.c.id)
                stmt = stmt.where(key < tuple_(*before) if direction == "desc" else key > tuple_(*before))
            else:
                stmt = stmt.offset(middle)
            db.session.execute(stmt).all()
            db.session.remove()
    raw_offset, raw_keyset = median_ms(lambda: raw(False), n), median_ms(lambda: raw(True), n)
    line = (f"Order, the page at row {middle:,} of {total:,} (API): by page number {by_page:.1f} ms, by cursor "
            f"{by_cursor:.1f} ms; raw SQL with OFFSET {raw_offset:.1f} ms, raw keyset SQL {raw_keyset:.1f} ms "
            f"(cursor/raw keyset {ratio(by_cursor, raw_keyset)}, by cursor vs by page number "
            f"{ratio(by_cursor, by_page)}).")
    log("  " + line)
    return [line]
