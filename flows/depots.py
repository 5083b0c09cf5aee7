"""Intake: register dépôts (mailbox or post), render their attestations, send them."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path

from actions.attestations import render_ahead, render_pending, report_of
from actions.bilans import render_pending_accuses
from actions.bilans import confirm_bilan
from actions.pieces import worker_modules
from actions.depots import attach_depot, confirm_depot, register_mailbox, register_postal
from actions.lecture import LectureEnAvance, scan_mailbox
from adapters.mailbox import iter_mailbox
from flows import comptes_rendus
from flows.mail import send_outbox, sending_behind
from flows.parametres import Annee, Boite, Maintenant, NomStructure, NumeroDepot, Pieces, RecuLe, Reference, Siret
from flows.passage import etape, passage
from flows.runtime import parse_moment, runtime


def depots_before(annee: int) -> int:
    from actions.listing import last_depot_id

    with runtime().factory() as session:
        return last_depot_id(session, annee)


EN_CHAINE = 40
"""From this many messages to read, their attestations are rendered and sent while the others are recorded."""
_chain: ExitStack | None = None  # the relève in progress in this process, while it may chain its steps
_ahead = None  # its attestations rendered ahead, once there are enough messages


@contextmanager
def chained(annee: int) -> Iterator[None]:
    """While the relève records dépôts, a worker renders their attestations and a thread sends them: on two cores,
    three things at once instead of one after the other. Only for a batch of ``EN_CHAINE`` messages or more
    (``_alongside``), documents in .docx (a PDF batch waits for every document) and at least two workers."""
    global _chain, _ahead
    if not _chains(EN_CHAINE):
        yield
        return
    with ExitStack() as stack:
        _chain = stack
        try:
            yield
        finally:
            _chain = _ahead = None


def _chains(count: int) -> bool:
    """Whether a relève of ``count`` messages renders and sends their attestations while it records them."""
    rt = runtime()
    return rt.settings.pdf != "auto" and rt.settings.workers >= 2 and count >= EN_CHAINE


def _alongside(annee: int) -> Callable[[int], Callable[[], None] | None]:
    def start(count: int) -> Callable[[], None] | None:
        global _ahead
        if _chain is None or count < EN_CHAINE:
            return None
        rt = runtime()
        behind = _chain.enter_context(sending_behind())
        _ahead = render_ahead(rt.factory, rt.storage, annee, preload=worker_modules(), on_recorded=behind.wake)
        if _ahead is None:
            return None
        _chain.enter_context(_ahead)
        return _ahead.feed

    return start


_en_avance: dict[tuple[str, int], LectureEnAvance] = {}  # mailboxes this command started reading (``lire_en_avance``)


@contextmanager
def lire_en_avance(params: dict) -> Iterator[None]:
    """While Prefect starts the run of ``aap depots relever`` (2 to 3 s on one core), the mailbox is scanned and
    its reading started in workers, as the relève would start it (one worker fewer when attestations are to be
    rendered alongside). Anything that goes wrong here is left to the run, which meets it again and reports it."""
    rt = runtime()
    key = (str(params["maildir"]), int(params["annee"]))
    try:
        lecture = scan_mailbox(rt.factory, key[1], iter_mailbox(Path(key[0])))
        workers = rt.settings.workers
        if _chains(len(lecture.todo)):
            workers -= 1
        _en_avance[key] = LectureEnAvance(lecture, rt.storage, workers=workers)
    except Exception:  # noqa: BLE001 - see above: the run reads the mailbox itself
        pass  # not yielded from here: an error of the run must not be shown as raised while handling this one
    try:
        yield
    finally:
        ahead = _en_avance.pop(key, None)
        if ahead is not None:
            ahead.close()


@etape("enregistrer-depots")
def register_depots(maildir: str, annee: int, maintenant: str | None) -> dict:
    rt = runtime()
    ahead = _en_avance.pop((str(maildir), int(annee)), None)
    try:
        report = register_mailbox(rt.factory, rt.storage, annee, iter_mailbox(Path(maildir)),
                                  maintenant=parse_moment(maintenant), workers=rt.settings.workers,
                                  alongside=_alongside(annee), en_avance=ahead)
    finally:
        if ahead is not None:
            ahead.close()
    return asdict(report)


@etape("enregistrer-depot-postal")
def register_postal_task(annee: int, siret: str, recu_le: str, files: list[str], nom: str | None, maintenant: str | None) -> dict:
    rt = runtime()
    depot, outcome = register_postal(
        rt.factory, rt.storage, annee, siret=siret, recu_le=parse_moment(recu_le), files=[Path(f) for f in files],
        nom=nom, maintenant=parse_moment(maintenant),
    )
    return {"depot": depot.id, "resultat": outcome}


@etape("rattacher-depot")
def attach_task(annee: int, depot: int, siret: str, nom: str | None, maintenant: str | None) -> dict:
    rt = runtime()
    d = attach_depot(rt.factory, annee, depot, siret=siret, nom=nom, maintenant=parse_moment(maintenant))
    return {"depot": d.id, "dossier": d.dossier.numero}


@etape("rendre-attestations")
def render_attestations(annee: int) -> dict:
    """Attestations de dépôt, and the receipts of returned bilans."""
    rt = runtime()
    ahead = _ahead
    if ahead is not None:  # rendered during the registration: what is still in flight, then what it missed
        ahead.finish()
    report = render_pending(rt.factory, rt.storage, annee, pdf=rt.settings.pdf == "auto", workers=rt.settings.workers)
    if ahead is not None:
        done = report_of(ahead.report)
        report.rendues += done.rendues
        report.sans_adresse = [*(done.sans_adresse or []), *(report.sans_adresse or [])]
    return {**asdict(report), "accuses": render_pending_accuses(rt.factory, rt.storage, pdf=rt.settings.pdf == "auto")}


@passage("releve-depots", etape="releve", compte_rendu=comptes_rendus.releve, avance=lire_en_avance)
def releve_depots(maildir: Boite, annee: Annee, maintenant: Maintenant = None) -> dict:
    """Relève la boîte de dépôt : enregistre, atteste et envoie les attestations."""
    avant = depots_before(annee)
    with chained(annee):
        return {
            "depots_avant": avant,
            "depots": register_depots(maildir, annee, maintenant),
            "attestations": render_attestations(annee),
            "courriels": send_outbox(),
        }


@passage("depot-postal", etape="depot-postal", compte_rendu=comptes_rendus.depot_saisi)
def depot_postal(annee: Annee, siret: Siret, recu_le: RecuLe, files: Pieces, nom: NomStructure = None,
                 maintenant: Maintenant = None) -> dict:
    """Enregistre un dépôt reçu par courrier et envoie son attestation."""
    return {
        "depot": register_postal_task(annee, siret, recu_le, files, nom, maintenant),
        "attestations": render_attestations(annee),
        "courriels": send_outbox(),
    }


@passage("rattachement-depot", etape="rattachement", compte_rendu=comptes_rendus.depot_saisi)
def rattachement_depot(annee: Annee, depot: NumeroDepot, siret: Siret, nom: NomStructure = None,
                       maintenant: Maintenant = None) -> dict:
    """Rattache un dépôt non identifié à une structure, puis atteste et envoie l'attestation."""
    return {
        "depot": attach_task(annee, depot, siret, nom, maintenant),
        "attestations": render_attestations(annee),
        "courriels": send_outbox(),
    }


@etape("confirmer-expediteur")
def confirm_task(annee: int, reference: str, maintenant: str | None) -> dict:
    """``reference``: a dépôt's number (« 12 ») or a bilan's (« BIL-2018-0004 »)."""
    rt = runtime()
    if reference.strip().isdigit():
        d = confirm_depot(rt.factory, annee, int(reference), maintenant=parse_moment(maintenant))
        return {"depot": d.id, "dossier": d.dossier.numero, "bilan": None}
    b = confirm_bilan(rt.factory, reference, maintenant=parse_moment(maintenant))
    return {"depot": None, "dossier": None, "bilan": b.numero}


@passage("confirmation-expediteur", etape="confirmation", compte_rendu=comptes_rendus.depot_saisi)
def confirmation_depot(annee: Annee, reference: Reference, maintenant: Maintenant = None) -> dict:
    """Confirme qu'un dépôt ou un bilan à vérifier vient bien de sa structure, puis atteste (ou accuse réception)."""
    return {
        "confirme": confirm_task(annee, reference, maintenant),
        "attestations": render_attestations(annee),
        "courriels": send_outbox(),
    }
