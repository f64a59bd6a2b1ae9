"""Issue 23: every foreign key, every default sort column and every declared filter column
has an index — in the migrated database, not just in the models (a model's ``index=True``
without its migration fails here too).

Read from the registry: every table of the loaded modules (foreign keys) and every
document (``Meta.order``'s column, ``Meta.search_columns``; a relation filters by its
foreign key). "Indexed" means the column leads some index, unique constraint or primary
key, so the database can seek on it and, for the sort, read the rows in order."""
from sqlalchemy import inspect as sa_inspect

from erp_core.extensions import db


def leading_columns(inspector, table):
    """Columns the database can seek on in ``table``: first column of each index/key."""
    firsts = set(inspector.get_pk_constraint(table).get("constrained_columns", [])[:1])
    for idx in inspector.get_indexes(table):
        if idx.get("column_names") and idx["column_names"][0]:
            firsts.add(idx["column_names"][0])
    for uq in inspector.get_unique_constraints(table):
        firsts.add(uq["column_names"][0])
    return firsts


def needed_indexes(app):
    """[(table, column, why)] the list pages and joins rely on."""
    registry = app.extensions["houqin"].registry
    needed = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.foreign_keys:
                needed.append((table.name, column.name, "foreign key"))
    for cls in app.extensions["houqin"].documents:
        if registry.module_of(cls) is None:
            continue
        mapper, meta = sa_inspect(cls), cls._meta
        table = cls.__table__.name

        def columns_of(field):
            if field in mapper.relationships:
                return [c.name for c in mapper.relationships[field].local_columns]
            if field in mapper.column_attrs:
                return [mapper.column_attrs[field].columns[0].name]
            return []          # a property: not filterable in SQL
        for column in columns_of(meta.order[0]):
            needed.append((table, column, f"{cls.__name__}: default sort"))
        for field in meta.search_columns or ():
            for column in columns_of(field):
                needed.append((table, column, f"{cls.__name__}: declared filter {field}"))
    return needed


def test_every_foreign_key_sort_and_filter_column_is_indexed(app):
    with app.app_context():
        inspector = sa_inspect(db.engine)
        tables = set(inspector.get_table_names())
        needed = needed_indexes(app)
        missing, cache = [], {}
        for table, column, why in needed:
            if table not in tables:
                missing.append(f"{table}: table missing from the migrated database")
                continue
            if table not in cache:
                cache[table] = leading_columns(inspector, table)
            if column not in cache[table]:
                missing.append(f"{table}.{column} ({why}) has no index")
    assert len(needed) > 50           # the registry was read, not an empty list
    assert not missing, "add index=True and a migration in the module:\n" + "\n".join(sorted(set(missing)))
