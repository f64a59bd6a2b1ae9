"""erp_core's own tables besides audit and naming: the hospital's settings."""
from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .types import UTCDateTime


class Settings(Model):
    """One row: what every printed document and the shell show about the hospital."""
    __tablename__ = "core_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hospital_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    department_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    address: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    logo_mimetype: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # paper per print format, as each counter's printer takes it: {"convenience.receipt": "receipt80"}
    papers: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    @property
    def logo_data_uri(self):
        import base64
        if not self.logo:
            return None
        return f"data:{self.logo_mimetype or 'image/png'};base64,{base64.b64encode(self.logo).decode()}"

    @classmethod
    def current(cls, session):
        """The settings row, or an unsaved default (reading never writes)."""
        return session.get(cls, 1) or cls(id=1, hospital_name="", department_name="", address="", phone="")


class Attachment(Model):
    """A file attached to any document (scanned certificate, signed contract, bid file).
    Read and written with the document's own permissions. The bytes are in the store
    (erp_core/storage.py) under ``sha256``; ``data`` holds them only with the database store."""
    __tablename__ = "core_attachment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doctype: Mapped[str] = mapped_column(String(64), index=True)
    doc_id: Mapped[int] = mapped_column(Integer, index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mimetype: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PrintRecord(Model):
    """One printed copy of a document: the first print is the original, later ones are
    marked 补打 (reprint). Kept apart from the audit log, whose retention may purge rows."""
    __tablename__ = "core_print_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[str] = mapped_column(String(80), index=True)
    docname: Mapped[str] = mapped_column(String(140), index=True)
    printed_by: Mapped[str] = mapped_column(String(64), default="")
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime)
