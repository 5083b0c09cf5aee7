"""Declarative base and the column types every table shares."""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from sqlalchemy import JSON, DateTime, Enum, MetaData, Numeric, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, mapped_column

CENT = Decimal("0.01")
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; always returns aware UTC datetimes (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetime sans fuseau horaire : stockage refusé")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Montant(TypeDecorator):
    """Money to the cent, as Decimal both ways: NUMERIC(12, 2) on PostgreSQL, exact text on SQLite
    (SQLite's NUMERIC would turn it into a float)."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any):  # noqa: ANN201
        return dialect.type_descriptor(String(24) if dialect.name == "sqlite" else Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError("un montant est un Decimal, jamais un float")
        value = value.quantize(CENT)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(CENT)


def enum_column(cls: type[enum.Enum]) -> Enum:
    """A state column stored as its French value (VARCHAR, no native enum: new states need no migration)."""
    return Enum(cls, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON(), list[dict[str, Any]]: JSON(),
        Decimal: Montant(),
    }


Texte = Annotated[str, mapped_column(String(500))]
TexteCourt = Annotated[str, mapped_column(String(100))]
Sha256 = Annotated[str, mapped_column(String(64))]


TABLES = ("appel", "comite", "conservation", "convention", "courriel", "document", "dossier", "instruction", "journal", "passage", "porteur",
          "suivi", "utilisateur")
"""The modules that declare tables. Whoever loads the ORM (this module) gets them all registered, so that a
relationship by name always finds its class; the rules without the ORM (``models.piece``…) load none."""


def _register_tables() -> None:
    import importlib

    for module in TABLES:
        importlib.import_module(f"models.{module}")


_register_tables()
