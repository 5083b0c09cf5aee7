"""Reading, checking and sealing the journal (``aap journal``, the dossier page, the FSE pack)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.database import transaction
from adapters.journal import lock_and_read_head, now, write_seal
from models.journal import (
    Anomalie,
    Entree,
    Journal,
    Sceau,
    SceauJournal,
    parse_seal_text,
    paris_day,
    verify_chain,
    verify_seal,
)

LOT = 2000  # entries read at a time while checking


def entree_of(row: Journal) -> Entree:
    return Entree(id=row.id, moment=row.moment, genre=row.genre, appel=row.appel, dossier=row.dossier,
                  convention=row.convention, utilisateur=row.utilisateur, texte=row.texte, donnees=row.donnees,
                  precedent=row.precedent, empreinte=row.empreinte)


def sceau_of(row: SceauJournal) -> Sceau:
    return Sceau(row.jour, row.entree, row.empreinte)


@dataclass
class Verification:
    """What ``verifier`` found: how much it checked, and the first anomaly (None: intact)."""

    entrees: int = 0
    sceaux: int = 0
    jusqu_a: int | None = None  # the last entry checked
    anomalie: Anomalie | None = None
    dernier_sceau: Sceau | None = None
    non_scelles: int = 0  # entries after the last seal (the current day's, not sealed yet)
    lignes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.anomalie is None


def _entries(session: Session, jusqu_a: int | None) -> Iterator[Entree]:
    query = select(Journal).order_by(Journal.id)
    if jusqu_a is not None:
        query = query.where(Journal.id <= jusqu_a)
    for row in session.scalars(query.execution_options(yield_per=LOT)):
        yield entree_of(row)
        session.expunge(row)


def verify(session: Session, storage_root: Path, *, appel: int | None = None) -> Verification:
    """Recompute the chain from its first entry (up to the call's last one when ``appel`` is given: the chain is
    one for every call), then every seal that covers it: its entry's hash and its file."""
    result = Verification()
    if appel is not None:
        result.jusqu_a = session.scalar(select(func.max(Journal.id)).where(Journal.appel == appel))
        if result.jusqu_a is None:
            result.lignes.append(f"aucune entrée du journal pour l'appel {appel}")
            return result
    hashes: dict[int, Entree] = {}
    sceaux = [sceau_of(r) for r in session.scalars(select(SceauJournal).order_by(SceauJournal.entree))]
    chemins = {r.entree: r.chemin for r in session.scalars(select(SceauJournal))}
    wanted = {s.entree for s in sceaux}

    def counted() -> Iterator[Entree]:
        for e in _entries(session, result.jusqu_a):
            result.entrees += 1
            if e.id in wanted:
                hashes[e.id] = e
            yield e

    result.anomalie = verify_chain(counted())
    if result.anomalie is not None:
        return result
    last = result.jusqu_a if result.jusqu_a is not None else session.scalar(select(func.max(Journal.id)))
    root = Path(storage_root)
    for s in sceaux:
        if appel is not None and last is not None and s.entree > last:
            continue  # a later seal, about entries after the call's last one
        fichier_path = root / chemins[s.entree]
        fichier = parse_seal_text(fichier_path.read_text("utf-8")) if fichier_path.is_file() else None
        probleme = verify_seal(s, hashes.get(s.entree), fichier)
        if probleme is not None:
            result.anomalie = Anomalie(s.entree, probleme)
            return result
        result.sceaux += 1
        result.dernier_sceau = s
    orphan = _seal_file_without_row(root, set(chemins.values()))
    if orphan is not None:
        result.anomalie = orphan
        return result
    if last is not None:
        covered = result.dernier_sceau.entree if result.dernier_sceau else 0
        result.non_scelles = max(0, last - covered)
    return result


def _seal_file_without_row(root: Path, known: set[str]) -> Anomalie | None:
    """A seal's file whose row is gone: someone removed seals (and probably the entries they covered)."""
    folder = root / "journal" / "sceaux"
    if not folder.is_dir():
        return None
    for path in sorted(folder.rglob("sceau-*.txt")):
        relative = path.relative_to(root).as_posix()
        if relative in known:
            continue
        sceau = parse_seal_text(path.read_text("utf-8", errors="replace"))
        if sceau is None:
            continue
        return Anomalie(sceau.entree, f"le fichier {relative} scelle l'entrée n° {sceau.entree} du "
                                      f"{sceau.jour.isoformat()}, mais la base n'a plus ce sceau : le journal a été "
                                      "tronqué ou ses sceaux supprimés")
    return None


def seal_until(factory: sessionmaker[Session], storage_root: Path, *, maintenant: datetime) -> Sceau | None:
    """Seal the chain's last entry when its Paris day is over at ``maintenant`` and it is not sealed yet
    (``aap journal sceller``); the seal it wrote, or None when there was nothing to seal."""
    with transaction(factory) as session:
        tete = lock_and_read_head(session.connection())
        if tete is None or paris_day(tete.moment) >= paris_day(maintenant):
            return None
        if session.scalar(select(SceauJournal.id).where(SceauJournal.entree == tete.id)) is not None:
            return None
        sceau = Sceau(paris_day(tete.moment), tete.id, tete.empreinte)
        write_seal(session.connection(), Path(storage_root), sceau, now())
        return sceau


def history(session: Session, *, dossier: str | None = None, convention: str | None = None) -> list[Entree]:
    """A dossier's or a convention's entries in chain order (a dossier's include its convention's)."""
    conditions = []
    if dossier is not None:
        conditions.append(Journal.dossier == dossier)
    if convention is not None:
        conditions.append(Journal.convention == convention)
    if not conditions:
        return []
    return [entree_of(r) for r in session.scalars(select(Journal).where(or_(*conditions)).order_by(Journal.id))]


def covering_seals(session: Session, entrees: list[Entree]) -> list[Sceau]:
    """The seals that cover ``entrees``: for each entry, the first seal at or after it (one seal covers many)."""
    if not entrees:
        return []
    sceaux = [sceau_of(r) for r in session.scalars(
        select(SceauJournal).where(SceauJournal.entree >= entrees[0].id).order_by(SceauJournal.entree))]
    used, i = [], 0
    for e in entrees:
        while i < len(sceaux) and sceaux[i].entree < e.id:
            i += 1
        if i < len(sceaux) and (not used or used[-1] != sceaux[i]):
            used.append(sceaux[i])
    return used


def seal_rows(session: Session, sceaux: list[Sceau]) -> dict[int, SceauJournal]:
    ids = [s.entree for s in sceaux]
    return {r.entree: r for r in session.scalars(select(SceauJournal).where(SceauJournal.entree.in_(ids)))} if ids else {}


def last_day(session: Session) -> date | None:
    moment = session.scalar(select(Journal.moment).order_by(Journal.id.desc()).limit(1))
    return paris_day(moment) if moment else None


def dossier_history(session: Session, *, dossier: str | None, convention: str | None) -> tuple[str, list[Entree]]:
    """The title and the entries ``aap journal --dossier/--convention`` prints; an unknown number is refused."""
    from config.refus import Refus
    from models.convention import Convention
    from models.dossier import Dossier

    conventions: list[str] = []
    if dossier is not None:
        dossier = dossier.strip()
        d = session.scalar(select(Dossier).where(Dossier.numero == dossier))
        if d is None:
            raise Refus(f"aucun dossier n° « {dossier[:40]} »")
        conventions = list(session.scalars(select(Convention.numero).where(Convention.dossier_id == d.id)))
    if convention is not None:
        convention = convention.strip()
        if session.scalar(select(Convention.id).where(Convention.numero == convention)) is None:
            raise Refus(f"aucune convention n° « {convention[:40]} »")
        conventions.append(convention)
    conditions = []
    if dossier is not None:
        conditions.append(Journal.dossier == dossier)
    if conventions:
        conditions.append(Journal.convention.in_(conventions))
    rows = session.scalars(select(Journal).where(or_(*conditions)).order_by(Journal.id))
    titre = " et ".join(([f"Dossier {dossier}"] if dossier else []) + ([f"convention {convention}"] if convention else []))
    return f"Journal : {titre}", [entree_of(r) for r in rows]
