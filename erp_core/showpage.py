"""What a document's show page leads with (issue 17.2, the static parts): the workflow's
status bar, the key fields, related lists and the history as sentences. Actions (buttons
and forms) come from the action layer and have their own block in ``houqin/show.html``.

Declarations (all optional, in the document's ``Meta``):

* ``key_fields``: the fields people read first (default: the list columns);
* ``related``: one-to-many relationships listed under the fields (default: ``children``
  plus one-to-many relationships to documents the user may read).
"""
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import LargeBinary, inspect as sa_inspect

from . import display
from .permissions import request_user, rule_clause, user_can

SKIP_KEY = {"name", "workflow_state", "state_label", "docstatus", "docstatus_label"}


def status_bar(doc):
    """``[(label, css)]``: the workflow's states in order, done / current / todo; a state
    reached only on a side path (failed, cancelled...) shows only when it is current."""
    wf = doc._meta.workflow
    if wf is not None:
        states = list(wf.states)
        current = doc.workflow_state
        # the main path: states that are some transition's destination from the path so far
        main, seen = [wf.initial], {wf.initial}
        changed = True
        while changed:
            changed = False
            for t in wf.transitions:
                if main[-1] in t.source and t.dest not in seen and not t.needs_reason:
                    main.append(t.dest)
                    seen.add(t.dest)
                    changed = True
                    break
        names = main if current in main else main + [current] if current else main
        idx = names.index(current) if current in names else -1
        out = []
        for i, name in enumerate(names):
            label = wf.state(name).label if name in {s.name for s in states} else name
            css = "current" if i == idx else "done" if i < idx else "todo"
            if name == current and name not in main:
                css = "current side"
            out.append((str(label), css))
        return out
    if doc._meta.submittable:
        from .document import DOCSTATUS_LABELS
        names = [0, 1] + ([2] if doc.docstatus == 2 else [])
        return [(str(DOCSTATUS_LABELS[n]), "current" if n == doc.docstatus else "done" if n < doc.docstatus else "todo")
                for n in names]
    return []


def key_fields(view, doc):
    meta_keys = display.meta_get(type(doc), "key_fields")
    cols = list(meta_keys) if meta_keys else [c for c in view.list_columns if c not in SKIP_KEY]
    hidden = doc._meta.hidden_fields
    sealed = hidden(doc, request_user()) if hidden else set()
    out = []
    for c in cols:
        value = "***" if c in sealed else display.format_value(type(doc), c, getattr(doc, c, None))
        out.append((str(view.label_columns.get(c, c)), value, display.kind_of(type(doc), c) == "money"))
    return out


def _row_columns(target):
    meta = getattr(target, "_meta", None)
    if meta is not None and meta.list_columns:
        return list(meta.list_columns)
    if display.meta_get(target, "list_columns"):
        return list(display.meta_get(target, "list_columns"))
    mapper = sa_inspect(target)
    cols = []
    for a in mapper.column_attrs:
        col = a.columns[0]
        if col.primary_key or col.foreign_keys or isinstance(col.type, LargeBinary):
            continue
        if a.key in ("sort", "version", "docstatus", "created_by", "modified_by", "created_at", "modified_at",
                     "amended_from", "cancel_reason", "workflow_state", "hash", "receipt_hash"):
            continue
        cols.append(a.key)
    for r in mapper.relationships:
        if r.direction.name == "MANYTOONE" and r.mapper.class_ is not type(None):
            cols.append(r.key)
    return cols[:8]


def related_lists(doc):
    """``[dict(key, title, columns, rows, link)]`` for the page's related lists."""
    cls = type(doc)
    user = request_user()
    mapper = sa_inspect(cls)
    declared = display.meta_get(cls, "related")
    if declared is not None:
        keys = list(declared)
    else:
        keys = list(doc._meta.children)
        for r in mapper.relationships:
            if r.direction.name == "ONETOMANY" and r.key not in keys and hasattr(r.mapper.class_, "_meta"):
                keys.append(r.key)
    out = []
    for key in keys:
        rel = mapper.relationships.get(key)
        if rel is None:
            continue
        target = rel.mapper.class_
        tmeta = getattr(target, "_meta", None)
        if tmeta is not None:
            if not user_can(user, "read", tmeta.permission) or rule_clause(target, user) is not None:
                continue
        items = list(getattr(doc, key) or [])
        parent_rel = {r.key for r in sa_inspect(target).relationships if r.mapper.class_ is cls}
        columns = [c for c in _row_columns(target) if c not in parent_rel]
        labels = dict(tmeta.label_columns) if tmeta is not None else dict(display.meta_get(target, "label_columns", {}))
        from .views import SYSTEM_LABELS
        labels = {**SYSTEM_LABELS, **labels, **(doc._meta.label_columns or {})}
        view = getattr(target, "_view", None)
        rows = []
        for item in items[:50]:
            sealed = tmeta.hidden_fields(item, user) if tmeta is not None and tmeta.hidden_fields else set()
            cells = []
            for c in columns:
                if c in sealed:
                    cells.append(("***", False))
                else:
                    cells.append((display.format_value(target, c, getattr(item, c, None)),
                                  display.kind_of(target, c) == "money"))
            link = None
            if view is not None and tmeta is not None and item.id is not None:
                link = f"{view.route_base}/show/{item.id}"
            rows.append(dict(cells=cells, link=link))
        title = tmeta.title_plural if tmeta is not None else display.meta_get(target, "title_plural", key)
        out.append(dict(key=key, title=str(doc._meta.label_columns.get(key, title)), count=len(items),
                        columns=[str(labels.get(c, c)) for c in columns], rows=rows))
    return out


def context(view, doc, history):
    """Extra template context of ``houqin/show.html`` (called from ``DocumentView.show``)."""
    can_edit = (f"{view.endpoint}.edit" in current_app.view_functions
                and user_can(request_user(), "write", doc._meta.permission))
    return dict(history=history, can_edit=can_edit, status_bar=status_bar(doc), key_fields=key_fields(view, doc), related_lists=related_lists(doc),
                history_lines=display.history_sentences(type(doc), history, view.label_columns),
                doc_title=_doc_title(doc))


def _doc_title(doc):
    text = str(doc)
    return text[len(doc.name):].strip() if doc.name and text.startswith(doc.name) else text
