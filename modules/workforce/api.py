"""What other modules (care) use of the workforce register. Names kept stable.

* ``check_assignable(person, post, on_date)`` raises ``erp_core.errors.ValidationError``
  (a ``FieldRefused`` naming ``post``) with the missing or expired certificate named, else returns.
* ``eligible(vendor_id, post_code, on_date)`` -> list of active ``Person`` of that vendor on that
  post holding every required certificate valid on that date, by name.
* ``person_label(person)`` -> "张三（护工）" as people read it.
* ``missing_certificates(person, post, on_date)`` -> ``[(CertificateType, "missing"|"expired")]``.
* ``record_violation(person, occurred_on=, rule=, witness=, severity=, penalty=)`` -> the new
  ``Violation``, checked and numbered as the register's own form does (repeated serious ones
  flag the person for removal).
"""
from erp_core.extensions import db

from .models import ACTIVE, LEFT, PENDING, Certificate, CertificateType, Person, Post, Violation  # noqa: F401
from .services import check_assignable, eligible, find_by_id_card, missing_certificates  # noqa: F401


def person_label(person):
    if person is None:
        return ""
    return f"{person.full_name}（{person.post.title}）" if person.post is not None else person.full_name


def record_violation(person, **fields):
    violation = Violation(person=person, **fields)
    db.session.add(violation)
    db.session.flush()              # validate(), naming and the removal flag run as for the form
    return violation
