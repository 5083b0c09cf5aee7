"""Small factories for sample dépôts (forms, CVs, messages) used across the tests."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.eml_samples import build_depot_email, write_maildir_message
from flows.demo_data import SamplePorteur, cv_name, cv_pdf, luhn_siret
from forms.dossier_reponse import fill_dossier_reponse, write_dossier_reponse
from config.appel_config import load_appel_config

PARIS = ZoneInfo("Europe/Paris")
_BLANKS: dict[str, Path] = {}


def paris(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2017, 12, day, hour, minute, second, tzinfo=PARIS)


def porteur(n: int = 1, *, nom: str | None = None, referents: int = 1, etp: str = "1") -> SamplePorteur:
    return SamplePorteur(
        nom=nom or f"Structure d'insertion n° {n}",
        siret=luhn_siret(f"{400000000 + n:09d}0001"),
        email=f"contact{n}@structure{n}.example.org",
        referents=tuple((f"Nom{i}", f"Prénom{i}", etp, "40000.00") for i in range(1, referents + 1)),
    )


def blank_form(folder: Path) -> Path:
    key = str(folder)
    if key not in _BLANKS:
        cfg = load_appel_config(2018)
        folder.mkdir(parents=True, exist_ok=True)
        _BLANKS[key] = write_dossier_reponse(
            folder / "blank.xlsx", annee=2018, titre=cfg.appel.titre, date_limite="7 décembre 2017 à 17 h 00",
            plafond_etp=cfg.commande.plafond_salaire_charge_etp,
        )
    return _BLANKS[key]


def form_bytes(folder: Path, p: SamplePorteur, **changes: object) -> bytes:
    out = folder / f"form-{p.siret}-{abs(hash(repr(sorted(changes.items()))))}.xlsx"
    return fill_dossier_reponse(blank_form(folder), out, p.formulaire(**changes)).read_bytes()


def cvs(p: SamplePorteur, skip: set[int] = frozenset()) -> list[tuple[str, bytes]]:
    return [(cv_name(pr, n), cv_pdf(f"CV {pr} {n}")) for i, (n, pr, _, _) in enumerate(p.referents) if i not in skip]


def deliver(
    maildir: Path,
    *,
    sender: str,
    when: datetime,
    attachments: list[tuple[str, bytes]],
    message_id: str | None,
    to: str = "plie-aap@example.org",
    sender_name: str = "Structure",
    date_header: datetime | None = None,
    subject: str = "Réponse à l'appel à projets",
) -> Path:
    raw = build_depot_email(
        sender=sender, sender_name=sender_name, to=to, subject=subject, received_at=when,
        date_header=date_header, message_id=message_id, attachments=attachments,
    )
    return write_maildir_message(maildir, raw, delivered_at=when)


def deliver_complete(maildir: Path, forms: Path, p: SamplePorteur, when: datetime, n: int = 1, **kw) -> Path:
    return deliver(maildir, sender=p.email, when=when, attachments=[("dossier.xlsx", form_bytes(forms, p)), *cvs(p)],
                   message_id=f"<m{n}-{p.siret}@example.org>", sender_name=p.nom, **kw)


__all__ = ["replace", "paris", "porteur", "form_bytes", "cvs", "deliver", "deliver_complete", "cv_pdf", "luhn_siret"]
