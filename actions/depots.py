"""Registering dépôts: every received message or postal envelope becomes exactly one dépôt or
is tied to the one it duplicates. Load → act → commit, one message per transaction."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from actions.appels import SaisieRefusee, load_appel
from actions.bilans import register_bilan
from actions.dossiers import (
    allocate_attestation,
    deadline_for,
    get_or_create_dossier,
    refresh_dossier,
)
from actions.notifications import notify
from actions.lecture import FichierVu, LectureEnAvance, prepare_all, scan_mailbox
from actions.pieces import DepotAnalyse, Prepared, analyse_files, formulaire_as_json
from actions.porteurs import (
    claimed_porteur,
    find_or_create_by_siret,
    identify_porteur,
    known_addresses,
    notify_held,
    remember_addresses,
    speaks_for,
    structure_reference,
    update_from_form,
)
from adapters.database import retry_on_conflict, transaction
from adapters.library_errors import french_os_error
from adapters.mailbox import (
    FICHIER,
    LIMITES,
    RECEIVED,
    SUITE_LIMITE,
    TETE_MAX,
    IncomingMessage,
    Limites,
    delivery_time,
    read_top_headers,
    stable_name,
)
from adapters.storage import Storage, Stored
from adapters.workers import Interrompu
from config.appel_config import AppelConfig
from francais.formats import compte, format_datetime_paris, to_paris
from models.appel import Appel, is_late, reception_douteuse
from models.dossier import EN_ATTENTE, NON_IDENTIFIE, Canal, Depot, DepotStatut, FichierLu, Piece, Reception
from models.porteur import EXPEDITEUR_INCONNU, Porteur, normalize_address, normalize_siret, siret_motif
from models.texte import cleaning_motif
from templates.trust_mails import contact_context

log = logging.getLogger("aap.depots")


@dataclass
class IntakeReport:
    lus: int = 0
    deja_vus: int = 0
    depots: int = 0
    doublons: int = 0
    non_identifies: int = 0
    a_verifier: int = 0
    hors_limites: int = 0  # among the non identifiés: kept unread, over a limit of work per message
    hors_delai: int = 0
    bilans: int = 0
    erreurs: list[str] = field(default_factory=list)


def register_mailbox(
    factory: sessionmaker[Session], storage: Storage, annee: int, paths: Iterable[Path], *, maintenant: datetime,
    workers: int = 1, limites: Limites = LIMITES, alongside: Callable[[int], Callable[[], None] | None] | None = None,
    en_avance: LectureEnAvance | None = None,
) -> IntakeReport:
    """Register every message file; one message's failure is reported and the batch goes on.

    The mailbox is scanned (``actions.lecture``: a file read by an earlier run is not opened again, any other is
    hashed and its SHA-256 decides whether it is new), then its new messages are prepared in lean worker processes
    (``workers`` of them for a large batch, else one), each under the time and memory of its ``limites``, while
    this process records them, one transaction each. A message over a limit is kept unread with its reason
    (``keep_unregistered``). A file is recorded as read once its outcome is: one that failed is read again by the
    next run. ``alongside(n)``, told how many messages are to be read, may return work to do after each one is
    recorded (the stage renders their attestations meanwhile, in a worker of its own: one worker fewer reads them).
    ``en_avance``: this mailbox scanned and its reading started already (``paths`` is then not listed again)."""
    report = IntakeReport()
    lecture = en_avance.lecture if en_avance is not None else scan_mailbox(factory, annee, paths)
    report.lus, report.deja_vus = lecture.lus, lecture.deja_vus
    for path, raison in lecture.illisibles:
        report.erreurs.append(f"{path.name} : lecture impossible ({raison})")
        log.warning("Message %s illisible : %s.", _fichier(path), raison)
    todo, facts, lus = lecture.todo, lecture.facts, list(lecture.connus)
    after_each = alongside(len(todo)) if alongside is not None and todo else None
    if after_each is not None:
        workers = max(1, workers - 1)
    try:
        prepared = en_avance.items() if en_avance is not None else prepare_all(
            lecture, storage, workers=workers, limites=limites)
        for group in _groups(zip(todo, prepared)):
            outcomes = record_group(factory, lecture.appel_id, lecture.cfg, [item for _, item in group], maintenant
                                    ) if len(group) > 1 else None
            for i, (path, item) in enumerate(group):
                outcome = outcomes[i] if outcomes is not None else _record(
                    factory, storage, lecture.appel_id, lecture.cfg, path, item, report, maintenant)
                _count(report, outcome)
                if outcome != "erreur":
                    lus.append(facts[path])
                if after_each is not None:
                    after_each()
    finally:  # what was recorded stays recorded, even if the run stops here
        remember_files(factory, lecture.appel_id, lus)
    log.info("Boîte relevée : %s.", report_line(report))
    return report


def _groups(items: Iterator[tuple[Path, Prepared | Interrompu]]) -> Iterator[list[tuple[Path, Prepared | Interrompu]]]:
    """Consecutive messages to record together (``PAR_TRANSACTION`` at most), each other one alone."""
    group: list[tuple[Path, Prepared | Interrompu]] = []
    for path, item in items:
        if not groupable(item):
            if group:
                yield group
                group = []
            yield [(path, item)]
            continue
        group.append((path, item))
        if len(group) == PAR_TRANSACTION:
            yield group
            group = []
    if group:
        yield group


FICHIERS_PAR_INSERTION = 150  # rows per INSERT: 5 parameters each, under SQLite's oldest limit of 999


def remember_files(factory: sessionmaker[Session], appel_id: int, fichiers: list[FichierVu]) -> None:
    """Record (or update) each file read, by its stable name: one upsert per chunk, safe to race."""
    rows = list({f.nom: {"appel_id": appel_id, "nom": f.nom[:500], "taille": f.taille, "modifie_ns": f.modifie_ns,
                         "sha256": f.sha256} for f in fichiers}.values())
    if not rows:
        return

    def record() -> None:
        with transaction(factory) as session:
            insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            for start in range(0, len(rows), FICHIERS_PAR_INSERTION):
                statement = insert(FichierLu).values(rows[start:start + FICHIERS_PAR_INSERTION])
                session.execute(statement.on_conflict_do_update(
                    index_elements=["appel_id", "nom"],
                    set_={"taille": statement.excluded.taille, "modifie_ns": statement.excluded.modifie_ns,
                          "sha256": statement.excluded.sha256}))

    retry_on_conflict(record)


def _record(factory, storage: Storage, appel_id: int, cfg: AppelConfig, path: Path, item: Prepared | Interrompu,
            report: IntakeReport, maintenant: datetime) -> str:
    if isinstance(item, Interrompu) or (item.msg is not None and item.msg.limite is not None):
        held = item.msg if isinstance(item, Prepared) else None  # None: its worker gave up (time, memory)
        motifs = [*held.problems] if held else [item.motif]
        outcome = keep_unregistered(factory, storage, appel_id, path, [*motifs, SUITE_LIMITE], maintenant=maintenant,
                                    msg=held)
        report.hors_limites += outcome == "non_identifie"
        return outcome
    try:
        if item.erreur is not None:
            raise RuntimeError(item.erreur)
        if item.bilan_index is not None:
            raw = path.read_bytes()
            return register_bilan(factory, storage, appel_id, item.msg, raw, item.bilan_index, maintenant=maintenant)
        return record_message(factory, appel_id, cfg, item.msg, item.raw_stored, item.analyse, maintenant=maintenant)
    except Exception as exc:  # isolate the item, keep it in the SA's queue, go on
        reason = f"enregistrement impossible ({item.erreur or short_error(exc)})"
        report.erreurs.append(f"{path.name} : {reason}")
        return keep_unregistered(factory, storage, appel_id, path, [reason, NON_IDENTIFIE], maintenant=maintenant)


def short_error(exc: Exception) -> str:
    """One line, no SQL nor its parameters (they may hold a porteur's personal data)."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__} : {first[0][:200] if first else ''}"


def keep_unregistered(
    factory: sessionmaker[Session], storage: Storage, appel_id: int, path: Path, motifs: list[str], *,
    maintenant: datetime, msg: IncomingMessage | None = None,
) -> str:
    """A message that cannot be registered still gets its row, its stored bytes and its reasons for the SA.

    Its sender, ``Received:`` time and Message-ID come from ``msg`` when the worker read them, else
    from a bounded read of its top headers; the bytes are copied in chunks, never loaded whole."""
    stored = storage.put_file("messages", path, ".eml")
    if msg is None:
        with path.open("rb") as stream:
            expediteur, received_at, message_id = read_top_headers(stream.read(TETE_MAX))
    else:
        expediteur, received_at, message_id = msg.sender_address, msg.received_at, msg.message_id
        received_at = None if msg.received_from == FICHIER else received_at
    delivered_at = delivery_time(path)

    def record() -> tuple[str, int | None]:
        with transaction(factory) as session:
            if session.scalar(select(Reception.id).where(Reception.appel_id == appel_id, Reception.sha256 == stored.sha256)):
                return "deja_vu", None
            appel = session.get(Appel, appel_id)
            recu_le, recu_source, tous_motifs = (delivered_at, FICHIER, motifs) if received_at is None else _reception(
                received_at, RECEIVED, delivered_at, appel, motifs, maintenant)
            depot = Depot(
                appel_id=appel_id, cle=f"raw:{stored.sha256}", canal=Canal.COURRIEL, statut=DepotStatut.NON_IDENTIFIE,
                recu_le=recu_le, recu_source=recu_source, hors_delai=is_late(recu_le, appel.date_limite),
                expediteur=(expediteur or "")[:254] or None, message_id=(message_id or "")[:300] or None,
                motifs=tous_motifs, enregistre_le=maintenant,
            )
            session.add(depot)
            session.flush()
            session.add(Reception(appel_id=appel_id, sha256=stored.sha256, source=path.name[:500], taille=stored.taille,
                                  chemin=stored.chemin, depot_id=depot.id, doublon=False, recu_le=recu_le))
            return "non_identifie", depot.id

    try:
        outcome, depot_id = retry_on_conflict(record)
    except Exception as exc:  # the database itself refuses: the file stays in the mailbox for the next run
        log.warning("Message %s non enregistré, relu au prochain passage : %s.", _fichier(path), short_error(exc))
        return "erreur"
    if depot_id is not None:
        raisons = " ; ".join(m for m in motifs if m not in (SUITE_LIMITE, NON_IDENTIFIE)) or "raison inconnue"
        log.warning("Message %s conservé sans être enregistré (dépôt n° %s, en attente de l'assistante) : %s.",
                    _fichier(path), depot_id, raisons)
    return outcome


def _count(report: IntakeReport, outcome: str) -> None:
    if outcome == "erreur":
        return
    attribute = {"doublon": "doublons", "deja_vu": "deja_vus", "non_identifie": "non_identifies",
                 "a_verifier": "a_verifier", "bilan": "bilans"}.get(outcome, "depots")
    setattr(report, attribute, getattr(report, attribute) + 1)
    if outcome == "hors_delai":
        report.hors_delai += 1


def register_message(
    factory: sessionmaker[Session],
    storage: Storage,
    appel_id: int,
    cfg: AppelConfig,
    msg: IncomingMessage,
    raw: bytes,
    *,
    maintenant: datetime,
) -> str:
    """Store the message and its files, then record it in one transaction (retried on a race)."""
    raw_stored = storage.put_blob("messages", raw, ".eml")
    analyse = analyse_files(storage, [(a.filename, a.original_filename, a.content) for a in msg.attachments], cfg.pieces)
    return record_message(factory, appel_id, cfg, msg, raw_stored, analyse, maintenant=maintenant)


def record_message(
    factory: sessionmaker[Session],
    appel_id: int,
    cfg: AppelConfig,
    msg: IncomingMessage,
    raw_stored: Stored,
    analyse: DepotAnalyse,
    *,
    maintenant: datetime,
) -> str:
    """The dépôt, its pièces, its dossier and its attestation number: one transaction, retried on a race."""

    def record() -> tuple[str, str | None]:
        with transaction(factory) as session:
            return record_in(session, session.get(Appel, appel_id), cfg, msg, raw_stored, analyse, maintenant)

    outcome, line = retry_on_conflict(record)
    if line is not None:
        log.info(line)
    return outcome


def record_in(session: Session, appel: Appel, cfg: AppelConfig, msg: IncomingMessage, raw_stored: Stored,
              analyse: DepotAnalyse, maintenant: datetime) -> tuple[str, str | None]:
    """Record one prepared message in ``session``'s transaction: its outcome, and the log's line to say once
    committed."""
    cle = message_key(msg.message_id, msg.sender_address) if msg.message_id else f"raw:{raw_stored.sha256}"
    if session.scalar(select(Reception.id).where(Reception.appel_id == appel.id, Reception.sha256 == raw_stored.sha256)):
        return "deja_vu", None
    recu_le, recu_source, motifs = _reception(msg.received_at, msg.received_from, msg.delivered_at, appel,
                                              list(msg.problems), maintenant)
    existing = _find_duplicate(session, appel.id, cle=cle, message_id=msg.message_id,
                               empreinte=analyse.empreinte, expediteur=msg.sender_address)
    if existing is None:
        depot, structure = _new_depot(
            session, appel, cfg, analyse, canal=Canal.COURRIEL, cle=cle, recu_le=recu_le,
            recu_source=recu_source, expediteur=msg.sender_address, maintenant=maintenant,
            motifs=motifs, message_id=msg.message_id, expediteur_nom=msg.sender_name,
            sujet=msg.subject[:300],
        )
    session.add(Reception(
        appel_id=appel.id, sha256=raw_stored.sha256, source=msg.source.name[:500], taille=raw_stored.taille,
        chemin=raw_stored.chemin, depot_id=(existing or depot).id, doublon=existing is not None,
        recu_le=recu_le,
    ))
    if existing is not None:
        return "doublon", f"Message {_fichier(msg.source)} : doublon du dépôt n° {existing.id}, rien de nouveau."
    return _outcome(depot), depot_line(depot, structure, source=msg.source)


PAR_TRANSACTION = 10
"""Messages recorded in one transaction when they come one after the other, ready (see ``record_group``)."""


def record_group(factory: sessionmaker[Session], appel_id: int, cfg: AppelConfig, items: list[Prepared],
                 maintenant: datetime) -> list[str] | None:
    """Record several prepared messages in one transaction (what a transaction costs, paid once for them); their
    outcomes, or None when one of them failed: then nothing of the group is recorded, and the caller records each
    one on its own (its own transaction, its own retry, its own reasons). A run killed meanwhile loses nothing:
    a message without its committed ``Reception`` is read again by the next run."""
    try:
        with transaction(factory) as session:
            appel = session.get(Appel, appel_id)
            done = [record_in(session, appel, cfg, item.msg, item.raw_stored, item.analyse, maintenant)
                    for item in items]
    except Exception:  # noqa: BLE001 - each is recorded again alone, and what fails says why there
        return None
    for _, line in done:
        if line is not None:
            log.info(line)
    return [outcome for outcome, _ in done]


def groupable(item: Prepared | Interrompu) -> bool:
    """A message read whole, with no limit reached and no bilan: what ``record_in`` records."""
    return (isinstance(item, Prepared) and item.erreur is None and item.bilan_index is None and item.msg is not None
            and item.msg.limite is None)


def _reception(received_at: datetime, received_from: str, delivered_at: datetime | None, appel: Appel,
               motifs: list[str], maintenant: datetime) -> tuple[datetime, str, list[str]]:
    """The dépôt's reception time and its source; a doubtful ``Received:`` time gives way to the file's, with why."""
    if received_from != RECEIVED or delivered_at is None:
        return received_at, received_from, motifs
    doute = reception_douteuse(received_at, maintenant=maintenant, publie_le=appel.publie_le, livre_le=delivered_at)
    if doute is None:
        return received_at, received_from, motifs
    return delivered_at, FICHIER, [*motifs, doute]


def register_postal(
    factory: sessionmaker[Session],
    storage: Storage,
    annee: int,
    *,
    siret: str,
    recu_le: datetime,
    files: list[Path],
    nom: str | None,
    maintenant: datetime,
) -> tuple[Depot, str]:
    """A postal envelope registered by the SA (scans of what it held), on the porteur's dossier."""
    siret = normalize_siret(siret)
    if (motif := siret_motif(siret)) is not None:
        raise SaisieRefusee(motif)
    if recu_le.tzinfo is None:
        raise SaisieRefusee("la date de réception doit préciser son fuseau horaire")
    with factory() as session:
        appel, cfg = load_appel(session, annee)
    contents = []
    for f in files:
        try:
            contents.append((f.name, f.name, f.read_bytes()))
        except OSError as exc:
            raise SaisieRefusee(f"fichier illisible : {f} ({french_os_error(exc)})") from exc
    analyse = analyse_files(storage, contents, cfg.pieces)
    # one envelope: the same scans from the same structure stamped the same day (Paris), however the stamp was typed
    cle = f"courrier:{siret}:{to_paris(recu_le).date().isoformat()}:{analyse.empreinte or 'vide'}"

    def record() -> tuple[Depot, str, str]:
        with transaction(factory) as session:
            appel_row = session.get(Appel, appel.id)
            existing = session.scalar(select(Depot).where(Depot.appel_id == appel.id, Depot.cle == cle))
            if existing is not None:
                return existing, "doublon", f"Envoi postal déjà enregistré (dépôt n° {existing.id}) : rien de nouveau."
            find_or_create_by_siret(session, siret, nom)
            depot, structure = _new_depot(
                session, appel_row, cfg, analyse, canal=Canal.COURRIER, cle=cle, recu_le=recu_le,
                recu_source="saisie", expediteur=None, maintenant=maintenant, motifs=[], siret=siret,
                empreinte=False,
            )
            return depot, _outcome(depot), depot_line(depot, structure)

    depot, outcome, line = retry_on_conflict(record)
    log.info(line)
    return depot, outcome


def _outcome(depot: Depot) -> str:
    if depot.statut is DepotStatut.NON_IDENTIFIE:
        return "non_identifie"
    if depot.statut is DepotStatut.A_VERIFIER:
        return "a_verifier"
    return "hors_delai" if depot.hors_delai else "depot"


def message_key(message_id: str, expediteur: str | None) -> str:
    """A message's key holds its sender: a stranger reusing someone's Message-ID makes another key."""
    sender = hashlib.sha256(normalize_address(expediteur).encode()).hexdigest()[:16]
    return f"mid:{hashlib.sha256(message_id.encode()).hexdigest()}:{sender}"


def _find_duplicate(
    session: Session, appel_id: int, *, cle: str, message_id: str | None, empreinte: str | None, expediteur: str | None,
) -> Depot | None:
    """The earlier dépôt this message repeats: the same Message-ID or the same files, from the same sender or
    from an address known for the structure the earlier one was filed on. Never across structures."""
    conditions = [Depot.cle == cle]
    if message_id:
        conditions.append(Depot.message_id == message_id[:300])
    if empreinte:
        conditions.append(Depot.empreinte_pieces == empreinte)
    sender = normalize_address(expediteur)
    for depot in session.scalars(select(Depot).where(Depot.appel_id == appel_id, or_(*conditions)).order_by(Depot.id)):
        if depot.cle == cle or (sender and normalize_address(depot.expediteur) == sender):
            return depot
        if sender and depot.dossier is not None and sender in known_addresses(session, depot.dossier.porteur):
            return depot
    return None


def _new_depot(
    session: Session,
    appel: Appel,
    cfg: AppelConfig,
    analyse: DepotAnalyse,
    *,
    canal: Canal,
    cle: str,
    recu_le: datetime,
    recu_source: str,
    expediteur: str | None,
    maintenant: datetime,
    motifs: list[str],
    message_id: str | None = None,
    expediteur_nom: str | None = None,
    sujet: str | None = None,
    siret: str | None = None,
    empreinte: bool = True,
) -> tuple[Depot, str | None]:
    """The new dépôt, and the name of the structure it was filed on or held for (None: not identified)."""
    form = analyse.formulaire
    motifs = list(motifs)
    if form is not None:
        motifs.extend(form.anomalies)
        if form.nettoyes:
            motifs.append(cleaning_motif(form.nettoyes))
        if not siret and (motif := siret_motif(form.porteur_siret)) is not None and form.porteur_siret:
            motifs.append(motif)
    claimed = None if siret else claimed_porteur(session, form, expediteur)
    held = claimed is not None and not speaks_for(session, claimed, expediteur)
    porteur = None if held else identify_porteur(session, form, expediteur, siret,
                                                 **({} if siret else {"claimed": claimed}))
    statut, attente = (
        (DepotStatut.ENREGISTRE, []) if porteur else
        (DepotStatut.A_VERIFIER, [EXPEDITEUR_INCONNU]) if held else (DepotStatut.NON_IDENTIFIE, [NON_IDENTIFIE])
    )
    depot = Depot(
        appel_id=appel.id, cle=cle, empreinte_pieces=analyse.empreinte if empreinte else None, canal=canal,
        recu_le=recu_le, recu_source=recu_source, hors_delai=is_late(recu_le, appel.date_limite),
        message_id=(message_id or "")[:300] or None, expediteur=(expediteur or "")[:254] or None, expediteur_nom=(expediteur_nom or "")[:200] or None,
        sujet=sujet, siret_lu=(form.porteur_siret[:40] if form else siret),
        formulaire=formulaire_as_json(form) if form else None, enregistre_le=maintenant,
        statut=statut, motifs=[*motifs, *attente],
    )
    for p in analyse.pieces:
        depot.pieces.append(Piece(
            nom=p.nom, nom_origine=p.nom_origine, nature=p.nature, sha256=p.sha256, taille=p.taille,
            chemin=p.chemin, acceptee=p.motif is None, motif=p.motif,
        ))
    session.add(depot)
    if held:
        session.flush()  # its number names the mail that tells the structure
        _notify_held(session, appel, depot, claimed, maintenant)
    elif porteur is not None:
        file_on_dossier(session, appel, cfg, depot, porteur, maintenant)
    session.flush()  # for a new structure, one flush: it, its dossier, the dépôt, its pièces and attestation
    return depot, (claimed.nom if held else porteur.nom if porteur else None)


def depot_line(depot: Depot, structure: str | None, *, source: Path | None = None) -> str:
    """The log's French line for a new dépôt, from what is in hand (no query): its number, its dossier and
    structure, whether the dossier is complete and the dépôt in time; or why it waits for the SA."""
    quoi = f"Dépôt {'postal ' if depot.canal is Canal.COURRIER else ''}n° {depot.id}"
    if depot.statut is DepotStatut.A_VERIFIER:
        return f"{quoi} à vérifier : expéditeur inconnu pour cette structure ({structure})."
    if depot.statut is not DepotStatut.ENREGISTRE or depot.dossier is None:
        message = f" (message {_fichier(source)})" if source is not None else ""
        return f"{quoi} non identifié{message} : expéditeur inconnu et aucun SIRET valide dans un formulaire lisible."
    dossier = depot.dossier
    manquantes = len(dossier.pieces_manquantes)
    etat = "complet" if not manquantes else f"incomplet ({compte(manquantes, 'pièce manquante', 'pièces manquantes')})"
    version = f", version {depot.rang}" if (depot.rang or 1) > 1 else ""
    delai = "hors délai" if depot.hors_delai else "dans les délais"
    return f"{quoi} enregistré : dossier {dossier.numero} ({structure}){version}, {etat}, {delai}."


def _fichier(path: Path) -> str:
    """A message file's name for the logs; a name that holds an address is not shown (personal data)."""
    nom = stable_name(path)
    return nom[:120] if "@" not in nom else "(nom masqué)"


def report_line(report: IntakeReport) -> str:
    """What a run of the intake did, in one French line."""
    parts = [compte(report.lus, "message lu", "messages lus"),
             compte(report.depots, "nouveau dépôt", "nouveaux dépôts"),
             compte(report.deja_vus, "déjà enregistré", "déjà enregistrés"),
             compte(report.doublons, "doublon", "doublons"),
             compte(report.non_identifies + report.a_verifier, "en attente de l'assistante",
                    "en attente de l'assistante")]
    if report.hors_delai:
        parts.append(compte(report.hors_delai, "hors délai", "hors délai"))
    if report.bilans:
        parts.append(compte(report.bilans, "bilan", "bilans"))
    if report.erreurs:
        parts.append(compte(len(report.erreurs), "erreur", "erreurs"))
    return ", ".join(parts)


def file_on_dossier(session: Session, appel: Appel, cfg: AppelConfig, depot: Depot, porteur: Porteur,
                    maintenant: datetime) -> None:
    """A dépôt that speaks for ``porteur`` joins its dossier: a new version, its form taken, its addresses
    known, its attestation numbered. The previous contact is told when the form changes it."""
    with session.no_autoflush:  # a dépôt the SA files changes its statut and dossier in one flush: one journal entry
        dossier, nouveau = get_or_create_dossier(session, appel, porteur, depot.recu_le)
    depot.dossier = dossier
    depot.hors_delai = is_late(depot.recu_le, deadline_for(appel, dossier))
    if nouveau:  # its first version: no query; the dossier, and what this dépôt brings, go with the next flush
        depot.rang = 1
    else:
        session.flush()
        depot.rang = len([d for d in dossier.depots if d.id != depot.id]) + 1
    form = depot.formulaire
    if form is not None and (nouveau or not depot.hors_delai or dossier.admis):
        # a late form does not rewrite the contact of a dossier in progress
        if (previous := update_from_form(porteur, form, depot.expediteur)) is not None:
            session.flush()  # the dépôt's number names the mail
            notify(session, "contact_modifie", previous, contact_context(
                porteur_nom=porteur.nom, dossier=dossier.numero, recu_le=depot.recu_le,
                contact_nom=porteur.contact_nom, contact_email=porteur.contact_email),
                maintenant=maintenant, appel_id=appel.id, depot_id=depot.id)
    remember_addresses(session, porteur, [depot.expediteur, (form or {}).get("contact_email")])
    refresh_dossier(session, dossier, cfg, maintenant, nouveau=nouveau, declencheur=depot)
    allocate_attestation(session, appel, depot, dossier, maintenant)


def _notify_held(session: Session, appel: Appel, depot: Depot, porteur: Porteur, maintenant: datetime) -> None:
    reference, dossier = structure_reference(session, porteur, appel.id)
    notify_held(session, porteur, reference=reference, recu_le=depot.recu_le, objet=f"depot:{depot.id}",
                maintenant=maintenant, appel_id=appel.id)


def attach_depot(
    factory: sessionmaker[Session], annee: int, depot_id: int, *, siret: str, nom: str | None, maintenant: datetime
) -> Depot:
    """The SA ties a waiting (non identifié) dépôt to a porteur: it joins its dossier and gets its attestation."""
    siret = normalize_siret(siret)
    if (motif := siret_motif(siret)) is not None:
        raise SaisieRefusee(motif)

    def record() -> Depot:
        with transaction(factory) as session:
            appel, cfg = load_appel(session, annee)
            depot = _waiting(session, appel, depot_id)
            if depot.statut is not DepotStatut.NON_IDENTIFIE:
                raise SaisieRefusee(_not_waiting(depot, "non identifié"))
            porteur = find_or_create_by_siret(session, siret, nom)
            depot.statut = DepotStatut.ENREGISTRE
            depot.motifs = [m for m in depot.motifs if m != NON_IDENTIFIE] + [
                f"rattaché par l'assistante à la structure SIRET {siret}"]
            file_on_dossier(session, appel, cfg, depot, porteur, maintenant)
            return depot, porteur.nom

    depot, structure = retry_on_conflict(record)
    log.info("Dépôt n° %s rattaché par l'assistante au dossier %s (%s).", depot.id, depot.dossier.numero, structure)
    return depot


def _waiting(session: Session, appel: Appel, depot_id: int) -> Depot:
    depot = session.get(Depot, depot_id, with_for_update=True)
    if depot is None or depot.appel_id != appel.id:
        raise SaisieRefusee(f"aucun dépôt n° {depot_id} pour l'appel {appel.annee}")
    return depot


def _not_waiting(depot: Depot, attendu: str) -> str:
    if depot.statut is DepotStatut.ENREGISTRE:
        return f"le dépôt n° {depot.id} n'est pas {attendu} : il est déjà rattaché au dossier {depot.dossier.numero}"
    if depot.statut is DepotStatut.A_VERIFIER:
        return (f"le dépôt n° {depot.id} n'est pas {attendu} : il est à vérifier "
                "(« aap depot confirmer » ou « aap depot rejeter »)")
    return f"le dépôt n° {depot.id} n'est pas {attendu} (statut : {depot.statut.value})"


def confirm_depot(factory: sessionmaker[Session], annee: int, depot_id: int, *, maintenant: datetime) -> Depot:
    """The SA confirms that a dépôt held « à vérifier » comes from its structure: it becomes a complément,
    its sender becomes a known address, it is attested."""

    def record() -> Depot:
        with transaction(factory) as session:
            appel, cfg = load_appel(session, annee)
            depot = _waiting(session, appel, depot_id)
            if depot.statut is not DepotStatut.A_VERIFIER:
                raise SaisieRefusee(_not_waiting(depot, "à vérifier"))
            porteur = session.scalar(select(Porteur).where(Porteur.siret == normalize_siret(depot.siret_lu)))
            if porteur is None:  # the structure it named was removed meanwhile: only « rattacher » can place it
                raise SaisieRefusee(f"la structure du dépôt n° {depot_id} est introuvable (SIRET « {depot.siret_lu} »)")
            depot.statut = DepotStatut.ENREGISTRE
            depot.motifs = [m for m in depot.motifs if m != EXPEDITEUR_INCONNU] + [
                f"expéditeur confirmé par l'assistante le {format_datetime_paris(maintenant)}"]
            file_on_dossier(session, appel, cfg, depot, porteur, maintenant)
            return depot, porteur.nom

    depot, structure = retry_on_conflict(record)
    log.info("Dépôt n° %s confirmé par l'assistante : rattaché au dossier %s (%s).", depot.id, depot.dossier.numero,
             structure)
    return depot


def reject_depot(factory: sessionmaker[Session], annee: int, depot_id: int, *, motif: str, maintenant: datetime) -> Depot:
    """The SA refuses a waiting dépôt (à vérifier or non identifié): it is kept, with her reason, and leaves the queue."""
    motif = " ".join((motif or "").split())[:500]
    if not motif:
        raise SaisieRefusee("indiquez le motif du rejet (--motif)")

    def record() -> Depot:
        with transaction(factory) as session:
            appel, _ = load_appel(session, annee)
            depot = _waiting(session, appel, depot_id)
            if depot.statut not in EN_ATTENTE:
                raise SaisieRefusee(_not_waiting(depot, "en attente"))
            depot.statut = DepotStatut.REJETE
            depot.motifs = [*depot.motifs, f"rejeté par l'assistante le {format_datetime_paris(maintenant)} : {motif}"]
            return depot

    depot = retry_on_conflict(record)
    log.info("Dépôt n° %s rejeté par l'assistante (motif conservé sur le dépôt).", depot.id)  # her words stay in the row
    return depot
