"""The follow-up of signed conventions, end to end on a real database, real files and a real SMTP server.

One summer and autumn of 2018 is played once per database (``story``): three conventions reached through the
real intake, instruction, comité and signature; the échéancier run on chosen days (``maintenant``); bilans
returned by e-mail into the Maildir and registered by the intake; a renewal. The tests then read what
each step left behind: the mails in the SMTP sink, the rows, the files.
"""
from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from actions.attestations import render_pending
from actions.bilans import confirm_bilan, reject_bilan, render_pending_accuses
from actions.listing import waiting_queue
from actions.comite import notify_decisions, prepare_comite, record_decisions
from actions.convention_documents import render_pending_conventions
from actions.conventions import Modification, establish_conventions, modify, prolong, sign
from actions.depots import IntakeReport, register_postal
from actions.echeancier import EcheancierReport, run_echeancier
from actions.fse import build_fse_pack, render_fiches_presence
from actions.instruction import instruct_appel
from actions.outbox import send_pending
from actions.publication import publish_appel
from actions.suivi_rapport import write_suivi_report
from adapters.database import session_factory
from adapters.pdf import soffice_path
from adapters.smtp import MailSettings
from adapters.smtp_sink import SmtpSink
from adapters.storage import Storage
from config.appel_config import load_appel_config
from forms.bilan import fill_bilan_form, is_bilan_form, read_bilan_form
from forms.rapport_suivi import COLONNES, ENTETE, FONDS, SHEET_GRAPHIQUES, SHEET_SUIVI
from forms.synthese import fill_decisions
from models.suivi import Bilan, Echeance
from templates.render import read_docx_text
from tests.conftest import _PG_REASON, PUBLICATION, pg_database, run_intake
from tests.samples import cv_pdf, cvs, deliver, form_bytes, paris, porteur

UTC, PARIS = timezone.utc, ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.shared_per_database("story")  # one story per database, each on one xdist worker
SA = "assistante.plie@example.org"
ROOT = Path(__file__).resolve().parents[2]
A, B, C = porteur(11, referents=2), porteur(12), porteur(13)  # A answers at once, B never, C with errors first
USURPATEUR, COLLEGUE_B = "usurpateur@example.org", "bilans@structure12.example.org"
CONVENTIONS = {A.nom: "CONV-2018-001", B.nom: "CONV-2018-002", C.nom: "CONV-2018-003"}
JETON = {p.nom: f"BIL-{CONVENTIONS[p.nom]}-MI-2018" for p in (A, B, C)}
COL = {titre: j for j, (titre, _, _) in enumerate(COLONNES, start=1)}


def fr(text: str) -> str:
    """Babel's U+202F / U+00A0 separators as plain spaces, for readable assertions."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def body(message: EmailMessage) -> str:
    return fr(message.get_body(("plain",)).get_content())


def to(message: EmailMessage) -> str:
    return message["To"].addresses[0].addr_spec


def attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def bilan_message_id(label: str, p) -> str:
    return f"<bilan-{hashlib.sha256(label.encode()).hexdigest()[:12]}-{p.siret}@example.org>"


def morning(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), PARIS)


# --- what the porteurs type into the bilan form ------------------------------------------------

BILAN_A = {
    "bilan_entrees": 60, "bilan_file_active": 120, "bilan_sorties": 10,
    "bilan_sp_cdi": 3, "bilan_sp_interim": 0, "bilan_sp_cdd": 2, "bilan_sp_formation": 0, "bilan_sp_creation": 0,
    "bilan_sp_contrat_aide": 0, "bilan_sp_senior_chantier": 0,
    "bilan_entreprises_rencontrees": 12, "bilan_partenariats": 1, "bilan_participants_qpv": 20,
    "bilan_participants_rsa": 25,
    "bilan_qualitatif": "Démarrage rapide des entrées.\nDeux partenariats en cours dans le BTP.",
    "bilan_depense_salaires": Decimal("40000.00"), "bilan_depense_deplacements": Decimal("812.40"),
    "bilan_ressource_fse": Decimal("0"), "bilan_ressource_plie": Decimal("20000.00"),
    "justificatifs": [
        ("salaires", "Bulletins de salaire janvier-juin, Prénom1 Nom1", Decimal("20000.00"), "paie_1.pdf"),
        ("salaires", "Bulletins de salaire janvier-juin, Prénom2 Nom2", Decimal("20000.00"), "paie_2.pdf"),
        ("deplacements", "Notes de frais kilométriques", Decimal("812.40"), "frais_km.pdf"),
    ],
}
PIECES_A = {name: cv_pdf(f"Justificatif {name}") for name in ("paie_1.pdf", "paie_2.pdf", "frais_km.pdf")}

BILAN_C_CORRIGE = {
    **BILAN_A,
    "bilan_entrees": 15, "bilan_file_active": 50, "bilan_sorties": 5, "bilan_sp_cdi": 2, "bilan_sp_cdd": 1,
    "bilan_partenariats": 1,
    "bilan_depense_salaires": Decimal("15000.00"), "bilan_depense_deplacements": Decimal("400.00"),
    "bilan_ressource_plie": Decimal("10000.00"),
    "justificatifs": [
        ("salaires", "Bulletins de salaire janvier-juin", Decimal("15000.00"), "paie_c.pdf"),
        ("deplacements", "Notes de frais kilométriques", Decimal("400.00"), "Frais_KM.pdf"),  # attached lower-case
    ],
}
PIECES_C = {name: cv_pdf(f"Justificatif C {name}") for name in ("paie_c.pdf", "frais_km.pdf")}
BILAN_C_ERREURS = {
    **BILAN_C_CORRIGE,
    "bilan_sp_cdi": 4, "bilan_sp_cdd": 3,  # 7 positive exits out of 5 exits
    "bilan_partenariats": -1,
    "bilan_depense_salaires": Decimal("20000.00"),  # 15 000 € of justificatifs listed
    "justificatifs": [*BILAN_C_CORRIGE["justificatifs"][:1],
                      ("deplacements", "Notes de frais kilométriques", Decimal("400.00"), "frais_km.pdf")],
}
PIECES_C_ERREURS = {"paie_c.pdf": PIECES_C["paie_c.pdf"]}  # frais_km.pdf is listed but not attached
ERREURS_C = [
    "Partenariats : valeur négative (-1)",
    "Sorties positives (7) supérieures aux sorties (5)",
    "Dépenses « Salaires chargés des référents » : 20 000,00 € déclarés, 15 000,00 € de justificatifs listés",
    "Justificatif ligne 2 : fichier « frais_km.pdf » absent du message",
]


# --- the story -------------------------------------------------------------------------------


@contextmanager
def said(logger: str = "aap") -> Iterator[list[str]]:
    """The French lines the ``logger``'s stage logs meanwhile, at INFO and above."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(fr(record.getMessage()))

    log, handler = logging.getLogger(logger), Keep(logging.INFO)
    level = log.level
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        yield lines
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


@dataclass
class Run:
    report: EcheancierReport
    mails: list[EmailMessage]
    logs: list[str] = field(default_factory=list)

    def to(self, p) -> list[EmailMessage]:
        return [m for m in self.mails if to(m) == p.email]

    @property
    def digests(self) -> list[EmailMessage]:
        return [m for m in self.mails if to(m) == SA]


@dataclass
class Answer:
    report: IntakeReport
    mails: list[EmailMessage]
    logs: list[str] = field(default_factory=list)


@dataclass
class Story:
    url: str
    factory: object
    storage: Storage
    mail: MailSettings
    sink: SmtpSink
    maildir: Path
    tmp: Path
    runs: dict[str, Run] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    rapport: tuple[Path, Path] | None = None
    queues: dict[str, list[dict]] = field(default_factory=dict)
    rapport_juillet: tuple[Path, Path] | None = None

    # the steps

    def sign_conventions(self, *porteurs) -> list[str]:
        """Dépôts by e-mail and post, instruction, comité retaining all, conventions established and signed."""
        for i, p in enumerate(porteurs):
            deliver(self.maildir, sender=p.email, when=paris(6, 10, i), sender_name=p.nom,
                    message_id=f"<depot-{p.siret}@example.org>",
                    attachments=[("dossier.xlsx", form_bytes(self.tmp / "forms", p)), *cvs(p)])
        run_intake(self.factory, self.storage, self.maildir, self.mail)
        for p in porteurs:
            scan = self.tmp / f"courrier-{p.siret}.pdf"
            scan.write_bytes(cv_pdf(f"Courrier de {p.nom}"))
            register_postal(self.factory, self.storage, 2018, siret=p.siret, recu_le=paris(6, 15), files=[scan],
                            nom=None, maintenant=paris(6, 15))
        render_pending(self.factory, self.storage, 2018, pdf=False, workers=1)
        instruct_appel(self.factory, self.storage, 2018, maintenant=datetime(2017, 12, 8, 13, tzinfo=UTC), pdf=False)
        pack = prepare_comite(self.factory, self.storage, 2018, comite_le=None, sortie=self.tmp / "comite",
                              maintenant=datetime(2017, 12, 9, 9, tzinfo=UTC))
        rempli = fill_decisions(pack.synthese, {n: ("Retenu", "") for n in pack.dossiers}, self.tmp / "decisions.xlsx")
        comite = datetime(2017, 12, 11, 17, tzinfo=UTC)
        record_decisions(self.factory, 2018, rempli, date_comite=None, maintenant=comite)
        notify_decisions(self.factory, self.storage, 2018, pdf=False, maintenant=comite)
        numeros = establish_conventions(self.factory, 2018, maintenant=datetime(2017, 12, 15, 9, tzinfo=UTC))
        render_pending_conventions(self.factory, self.storage, pdf=False)
        for numero in numeros:
            sign(self.factory, numero, le=date(2017, 12, 20))
        send_pending(self.factory, self.mail, self.storage.root)
        return numeros

    def run(self, label: str, day: date, hour: int = 8) -> Run:
        """The échéancier on ``day`` (Paris time), then the outbox."""
        before = len(self.sink.messages())
        with said() as logs:
            report = run_echeancier(self.factory, self.storage, maintenant=morning(day, hour), sa_email=SA)
            send_pending(self.factory, self.mail, self.storage.root)
        self.runs[label] = Run(report, self.sink.messages()[before:], logs)
        return self.runs[label]

    def answer(self, label: str, p, values: dict, pieces: dict[str, bytes], when: datetime, *,
               message_id: str | None = None, sender: str | None = None) -> Answer:
        """The porteur fills the form its request carried and replies with it and the justificatifs."""
        [demande] = self.runs["15 juillet"].to(p)
        [(nom, blank)] = [(n, data) for n, data in attachments(demande).items() if n.endswith(".xlsx")]
        vierge = self.tmp / "reponses" / label / nom
        vierge.parent.mkdir(parents=True, exist_ok=True)
        vierge.write_bytes(blank)
        rempli = fill_bilan_form(vierge, vierge.with_name(f"rempli-{nom}"), values)
        deliver(self.maildir, sender=sender or p.email, when=when, sender_name=p.nom, subject=f"RE: {demande['Subject']}",
                message_id=message_id or bilan_message_id(label, p),
                attachments=[(nom, rempli.read_bytes()), *pieces.items()])
        return self.intake(label, when + timedelta(minutes=5))

    def intake(self, label: str, maintenant: datetime) -> Answer:
        """What « aap depots relever » does: register, attest or acknowledge, send."""
        before = len(self.sink.messages())
        with said() as logs:
            report, _ = run_intake(self.factory, self.storage, self.maildir, self.mail, maintenant=maintenant)
            render_pending_accuses(self.factory, self.storage, pdf=False)
            send_pending(self.factory, self.mail, self.storage.root)
        self.answers[label] = Answer(report, self.sink.messages()[before:], logs)
        return self.answers[label]

    # what the SA reads

    def bilans(self) -> dict[str, Bilan]:
        with self.factory() as s:
            return {b.numero: b for b in s.scalars(select(Bilan).order_by(Bilan.seq))}

    def echeances(self) -> list[tuple[str, str, date, date | None, list[int]]]:
        with self.factory() as s:
            return [(e.jeton, e.nature.value, e.due_le, e.demande_le, [r["rang"] for r in e.relances])
                    for e in s.scalars(select(Echeance).order_by(Echeance.jeton))]


def play(story: Story) -> Story:
    assert story.sign_conventions(A, B, C) == list(CONVENTIONS.values())
    # B's ETP 1 → 0,9 by an avenant never signed: it changes nothing in the forms and reports
    modify(story.factory, CONVENTIONS[B.nom], Modification(etp={"Prénom1 Nom1": Decimal("0.9")}),
           valide_le=date(2018, 3, 1), instance="bureau du PLIE", maintenant=morning(date(2018, 3, 1)))
    story.run("14 juillet", date(2018, 7, 14))
    story.rapport_juillet = write_suivi_report_at(story, date(2018, 7, 14), "rapport-14-juillet.xlsx")
    story.run("15 juillet", date(2018, 7, 15))
    story.run("15 juillet, encore", date(2018, 7, 15), hour=18)
    story.answer("A", A, BILAN_A, PIECES_A, morning(date(2018, 7, 20), 10))
    story.intake("relève suivante", morning(date(2018, 7, 20), 11))
    story.answer("A renvoyé", A, BILAN_A, PIECES_A, morning(date(2018, 7, 20), 12),
                 message_id=bilan_message_id("A", A))  # A's message, delivered again
    story.answer("C avec erreurs", C, BILAN_C_ERREURS, PIECES_C_ERREURS, morning(date(2018, 7, 22), 10))
    story.run("22 juillet", date(2018, 7, 22), hour=18)  # C's bilan is to correct, eight days before its due date
    story.run("20 août", date(2018, 8, 20))
    story.rapport = write_suivi_report_at(story, date(2018, 8, 21), "rapport-21-aout.xlsx")
    story.answer("C corrigé", C, BILAN_C_CORRIGE, PIECES_C, morning(date(2018, 8, 22), 10))
    story.run("27 août", date(2018, 8, 27))
    story.run("31 octobre", date(2018, 10, 31))
    story.run("15 novembre", date(2018, 11, 15))
    prolong(story.factory, CONVENTIONS[A.nom], valide_le=date(2018, 11, 20), instance="comité de pilotage",
            maintenant=morning(date(2018, 11, 20)))
    sign(story.factory, f"{CONVENTIONS[A.nom]}-A1", le=date(2018, 11, 20))
    story.run("21 novembre", date(2018, 11, 21))
    # in April 2019 (after the reports the tests replay), B's mid-term bilan comes from two unknown addresses
    story.answer("usurpation", B, BILAN_A, PIECES_A, morning(date(2019, 4, 2), 10), sender=USURPATEUR)
    story.queues["usurpation"] = waiting_queue_of(story)
    reject_bilan(story.factory, story.queues["usurpation"][0]["bilan"], motif="la structure ne connaît pas cet envoi",
                 maintenant=morning(date(2019, 4, 3)))
    story.answer("collègue", B, BILAN_A, PIECES_A, morning(date(2019, 4, 4), 10), sender=COLLEGUE_B)
    story.queues["collègue"] = waiting_queue_of(story)
    confirm_bilan(story.factory, story.queues["collègue"][0]["bilan"], maintenant=morning(date(2019, 4, 5)))
    story.intake("après confirmation", morning(date(2019, 4, 5), 9))
    story.queues["fin"] = waiting_queue_of(story)
    return story


def waiting_queue_of(story: Story) -> list[dict]:
    with story.factory() as session:
        return waiting_queue(session, 2018)


def write_suivi_report_at(story: Story, day: date, name: str) -> tuple[Path, Path]:
    with story.factory() as session:
        return write_suivi_report(session, 2018, story.tmp / name, maintenant=morning(day, 9).astimezone(UTC))


@pytest.fixture(scope="module")
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """The whole follow-up played once per database; the tests only read what it left."""
    tmp = tmp_path_factory.mktemp(f"suivi-{request.param}")
    database = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp}/aap.sqlite"
    else:
        if _PG_REASON:
            pytest.skip(_PG_REASON)
        database = pg_database()
        url = next(database)
    try:
        with SmtpSink(tmp / "sink") as sink:
            factory = session_factory(url)
            storage = Storage(tmp / "storage")
            publish_appel(factory, storage, load_appel_config(2018), maintenant=PUBLICATION)
            mail = MailSettings(host="127.0.0.1", port=sink.port, sender="PLIE du bassin dijonnais <plie@example.org>")
            yield play(Story(url, factory, storage, mail, sink, tmp / "boite", tmp))
    finally:
        if database is not None:
            database.close()


# --- échéancier: requests, same-day re-run ---------------------------------------------------


def test_before_the_request_window_the_echeances_open_and_only_the_sa_hears_of_it(story):
    run = story.runs["14 juillet"]
    assert (run.report.ouvertes, run.report.envois, run.report.retards) == (6, [], [])
    [digest] = run.mails
    assert to(digest) == SA
    assert fr(digest["Subject"]) == ("Échéancier du suivi au 14 juillet 2018 — aucun envoi, aucun retard, "
                                     "aucune fin de convention proche")


def test_each_echeance_is_due_when_the_call_says(story):
    echeances = {jeton: (nature, due_le) for jeton, nature, due_le, _, _ in story.echeances()}
    for p in (A, B, C):
        numero = CONVENTIONS[p.nom]
        assert echeances[f"BIL-{numero}-MI-2018"] == ("mi-parcours", date(2018, 7, 30))
        assert echeances[f"BIL-{numero}-FIN-2018"] == ("final", date(2019, 3, 1))


def test_requests_go_out_fifteen_days_before_the_due_date_with_the_prefilled_form(story):
    run = story.runs["15 juillet"]
    assert run.report.ouvertes == 0
    for p in (A, B, C):
        [demande] = run.to(p)
        numero = CONVENTIONS[p.nom]
        assert fr(demande["Subject"]) == (f"Bilan à mi-parcours de la convention n° {numero} à retourner au plus "
                                          f"tard le 30 juillet 2018 — {p.nom}")
        assert ("pour la période du 1er janvier 2018 au 30 juin 2018, au plus tard le 30 juillet 2018"
                in body(demande))
        [(nom, data)] = attachments(demande).items()
        assert nom == f"{JETON[p.nom]}.xlsx" and is_bilan_form(data)
        lu = read_bilan_form(data, filename=nom)
        assert (lu.jeton, lu.convention_numero, lu.periode) == (JETON[p.nom], numero, "mi-parcours")
        assert (lu.entrees, lu.sorties, lu.qualitatif, lu.justificatifs, lu.anomalies) == (None, None, "", (), ())
    assert len(run.report.envois) == 3
    assert f"demande de bilan mi-parcours 2018 — CONV-2018-002 ({B.nom})" in run.report.envois


def test_the_request_form_shows_the_porteur_its_convention_and_deadline(story):
    [demande] = story.runs["15 juillet"].to(A)
    path = story.tmp / "demande-A.xlsx"
    path.write_bytes(attachments(demande)[f"{JETON[A.nom]}.xlsx"])
    ws = openpyxl.load_workbook(path)["Bilan"]
    texts = [fr(str(c.value)) for row in ws.iter_rows(max_row=20) for c in row if c.value is not None]
    assert "Bilan à mi-parcours — convention CONV-2018-001" in texts and A.nom in texts
    assert any(t.startswith("À retourner au plus tard le 30 juillet 2018") for t in texts)


@pytest.mark.database_matters("a re-run or a repeat is refused by unique keys")
def test_running_again_the_same_day_sends_nothing_and_no_second_digest(story):
    again = story.runs["15 juillet, encore"]
    assert (again.report.ouvertes, again.report.envois, again.mails) == (0, [], [])
    digests = [m for m in story.sink.messages() if to(m) == SA and "au 15 juillet 2018" in m["Subject"]]
    assert len(digests) == 1
    assert fr(digests[0]["Subject"]).endswith("— 3 envois, aucun retard, aucune fin de convention proche")


# --- bilans coming back through the intake ---------------------------------------------------


def test_returned_bilan_is_tied_to_its_convention_numbered_and_accepted(story):
    answer = story.answers["A"]
    assert (answer.report.bilans, answer.report.depots, answer.report.erreurs) == (1, 0, [])
    bilan = story.bilans()["BIL-2018-0001"]
    assert (bilan.jeton_lu, bilan.conforme, bilan.erreurs, bilan.expediteur) == (JETON[A.nom], True, [], A.email)
    assert sorted(p["nom"] for p in bilan.pieces) == sorted([f"{JETON[A.nom]}.xlsx", *PIECES_A])
    assert bilan.contenu["entrees"] == 60 and bilan.contenu["depenses"]["salaires"] == "40000.00"
    with story.factory() as s:
        assert s.get(Echeance, bilan.echeance_id).jeton == JETON[A.nom]


def test_accepted_bilan_is_acknowledged_by_mail_with_its_numbered_receipt(story):
    [accuse] = story.answers["A"].mails
    assert to(accuse) == A.email
    assert fr(accuse["Subject"]) == f"Accusé de réception n° BIL-2018-0001 — bilan à mi-parcours accepté — {A.nom}"
    assert "Le bilan est complet et cohérent." in body(accuse)
    assert "ne peut pas être accepté" not in body(accuse)
    [(nom, data)] = attachments(accuse).items()
    assert nom == "BIL-2018-0001.docx"
    receipt = story.tmp / nom
    receipt.write_bytes(data)
    text = fr(read_docx_text(receipt))
    assert "BIL-2018-0001" in text and "CONV-2018-001" in text and A.nom in text
    bilan = story.bilans()["BIL-2018-0001"]
    for piece in bilan.pieces:
        assert piece["nom"] in text and piece["sha256"] in text


@pytest.mark.database_matters("a re-run or a repeat is refused by unique keys")
def test_the_same_bilan_read_again_or_delivered_twice_is_neither_recorded_nor_acknowledged_twice(story):
    relue, renvoye = story.answers["relève suivante"], story.answers["A renvoyé"]
    assert (relue.report.bilans, relue.report.doublons, relue.mails) == (0, 0, [])
    assert relue.report.deja_vus == relue.report.lus
    assert (renvoye.report.bilans, renvoye.report.doublons, renvoye.mails) == (0, 1, [])
    assert [b.numero for b in story.bilans().values() if b.jeton_lu == JETON[A.nom]] == ["BIL-2018-0001"]


def test_bilan_with_errors_is_recorded_not_accepted_with_every_error_in_french(story):
    assert story.answers["C avec erreurs"].report.bilans == 1
    bilan = story.bilans()["BIL-2018-0002"]
    assert (bilan.jeton_lu, bilan.conforme) == (JETON[C.nom], False)
    assert [fr(e) for e in bilan.erreurs] == ERREURS_C


def test_errors_go_back_to_the_porteur_as_a_french_list_in_the_mail_and_the_receipt(story):
    [accuse] = story.answers["C avec erreurs"].mails
    assert to(accuse) == C.email
    assert fr(accuse["Subject"]) == f"Accusé de réception n° BIL-2018-0002 — bilan à mi-parcours à corriger — {C.nom}"
    text = body(accuse)
    assert "Le bilan ne peut pas être accepté en l'état :" in text
    for erreur in ERREURS_C:
        assert f"  - {erreur}\n" in text
    assert "Merci de renvoyer un bilan corrigé en répondant à ce message." in text
    receipt = story.tmp / "BIL-2018-0002.docx"
    receipt.write_bytes(attachments(accuse)["BIL-2018-0002.docx"])
    receipt_text = fr(read_docx_text(receipt))
    for erreur in ERREURS_C:
        assert erreur in receipt_text


# --- catch-up, the digest, the corrected bilan ------------------------------------------------


def test_catching_up_on_20_august_sends_only_the_second_reminder_to_those_without_an_accepted_bilan(story):
    run = story.runs["20 août"]
    assert run.to(A) == []
    for p in (B, C):
        [relance] = run.to(p)
        assert fr(relance["Subject"]) == (f"Deuxième relance — bilan à mi-parcours de la convention n° "
                                          f"{CONVENTIONS[p.nom]} attendu le 30 juillet 2018 — {p.nom}")
        assert "il accuse donc un retard de 21 jours. Ce message est notre deuxième relance." in body(relance)
        assert list(attachments(relance)) == [f"{JETON[p.nom]}.xlsx"]
    relances = {jeton: rangs for jeton, _, _, _, rangs in story.echeances()}
    assert (relances[JETON[A.nom]], relances[JETON[B.nom]], relances[JETON[C.nom]]) == ([], [2], [2])
    assert not any("Première relance" in m["Subject"] for m in story.sink.messages())


def prefilled(form: bytes) -> dict[str, object]:
    """The grey column of a bilan form, by the label beside it (« Période couverte par le bilan » → its days)."""
    ws = openpyxl.load_workbook(BytesIO(form))["Bilan"]
    return {row[0].value: row[1].value for row in ws.iter_rows(min_col=1, max_col=2) if row[0].value}


def test_the_mid_term_form_covers_january_to_june_with_half_the_year_s_objectives_and_the_signed_etp(story):
    forms = {p.nom: next(iter(attachments(m).values())) for p in (A, B) for m in story.runs["15 juillet"].to(p)}
    a, b = prefilled(forms[A.nom]), prefilled(forms[B.nom])
    assert a["Période couverte par le bilan"] == "du 1er janvier 2018 au 30 juin 2018"
    assert (a["ETP conventionnés"], a["Entrées de participants sur la période"]) == ("2", 56)  # 56 × 2 ETP × 6/12
    # B's avenant (ETP 1 → 0,9) is not signed: the form keeps the convention as signed
    assert (b["ETP conventionnés"], b["Entrées de participants sur la période"]) == ("1", 28)
    assert b["Partenariats durables noués avec des entreprises"] == 1.5  # 6 per binôme × 1 ETP / 2 × 6/12


def test_the_mid_term_receipt_and_reminder_name_the_half_year_they_cover(story):
    periode = "pour la période du 1er janvier 2018 au 30 juin 2018"
    [accuse] = story.answers["A"].mails
    assert periode in body(accuse)
    bilan = story.bilans()["BIL-2018-0001"]
    assert "du 1er janvier 2018 au 30 juin 2018" in fr(read_docx_text(story.storage.path(bilan.accuse_chemin)))
    [relance] = story.runs["20 août"].to(B)
    assert periode in body(relance)
    with story.factory() as s:
        mi = s.scalar(select(Echeance).where(Echeance.jeton == JETON[A.nom]))
        assert (mi.periode_debut, mi.periode_fin) == (date(2018, 1, 1), date(2018, 6, 30))


def test_a_report_written_before_any_bilan_charts_every_structure_marked_non_renseigne(story):
    workbook, synthese = story.rapport_juillet
    ws = openpyxl.load_workbook(workbook)[SHEET_GRAPHIQUES]
    assert len(ws._charts) == 3
    porteurs = [ws.cell(row, 1).value for row in range(5, ws.max_row + 1) if ws.cell(row, 1).value]
    assert porteurs == [f"{p.nom} (non renseigné)" for p in (A, B, C)]
    assert [ws.cell(row, 3).value for row in range(5, 8)] == [56, 28, 28]  # the mid-term objectives (B: as signed)
    assert "le suivi de 3 conventions" in fr(read_docx_text(synthese))


def test_digest_tells_the_sa_what_was_sent_and_what_is_late_and_why(story):
    [digest] = story.runs["20 août"].digests
    assert fr(digest["Subject"]) == ("Échéancier du suivi au 20 août 2018 — 2 envois, 1 retard, 1 bilan à corriger, "
                                     "aucune fin de convention proche")
    text = body(digest)
    envois, retards = text.split("Bilans en retard :")
    retards, a_corriger = retards.split("Bilans à corriger (reçus avec erreurs) :")
    assert f"  - relance n° 2 du bilan mi-parcours 2018 — CONV-2018-002 ({B.nom})" in envois
    assert f"  - relance n° 2 du bilan mi-parcours 2018 — CONV-2018-003 ({C.nom})" in envois
    assert (f"  - CONV-2018-002 ({B.nom}) : bilan mi-parcours 2018 attendu le 30 juillet 2018, non reçu "
            "(21 jours de retard)") in retards
    assert (f"  - CONV-2018-003 ({C.nom}) : bilan mi-parcours 2018 n° BIL-2018-0002 reçu avec erreurs, échéance du "
            "30 juillet 2018 dépassée de 21 jours : Partenariats : valeur négative (-1)") in a_corriger
    assert "CONV-2018-003" not in retards and "CONV-2018-001" not in text


def test_a_bilan_to_correct_eight_days_before_its_due_date_is_listed_to_correct_not_late(story):
    [digest] = story.runs["22 juillet"].digests
    text = body(digest)
    assert fr(digest["Subject"]) == ("Échéancier du suivi au 22 juillet 2018 — aucun envoi, aucun retard, "
                                     "1 bilan à corriger, aucune fin de convention proche")
    sections = {titre: text.split(titre)[1].split("\n\n")[0].strip() for titre in (
        "Bilans en retard :", "Bilans à corriger (reçus avec erreurs) :", "Bilans attendus (demandés, avant leur échéance) :")}
    assert sections["Bilans en retard :"] == "aucun"
    assert sections["Bilans à corriger (reçus avec erreurs) :"].startswith(
        f"- CONV-2018-003 ({C.nom}) : bilan mi-parcours 2018 n° BIL-2018-0002 reçu avec erreurs, à corriger avant le "
        "30 juillet 2018 : Partenariats : valeur négative (-1)")
    assert sections["Bilans attendus (demandés, avant leur échéance) :"] == (
        f"- CONV-2018-002 ({B.nom}) : bilan mi-parcours 2018 demandé le 15 juillet 2018, attendu au plus tard le "
        "30 juillet 2018")


def test_corrected_bilan_is_accepted_and_nothing_more_is_asked(story):
    [accuse] = story.answers["C corrigé"].mails
    assert fr(accuse["Subject"]).startswith("Accusé de réception n° BIL-2018-0003 — bilan à mi-parcours accepté")
    bilan = story.bilans()["BIL-2018-0003"]
    assert (bilan.jeton_lu, bilan.conforme, bilan.erreurs) == (JETON[C.nom], True, [])
    run = story.runs["27 août"]
    assert (run.report.envois, [m for m in run.mails if to(m) != SA]) == ([], [])
    assert [r.split(" : ")[0] for r in run.report.retards] == [f"CONV-2018-002 ({B.nom})"]


# --- conventions ending, renewal ---------------------------------------------------------------


def test_conventions_ending_within_60_days_appear_in_the_digest_with_their_next_action(story):
    assert story.runs["31 octobre"].report.fins_prochaines == []
    report = story.runs["15 novembre"].report
    assert report.fins_prochaines == [
        f"{CONVENTIONS[A.nom]} ({A.nom}) : fin le 31 décembre 2018, renouvelable",
        f"{CONVENTIONS[B.nom]} ({B.nom}) : fin le 31 décembre 2018, avenant CONV-2018-002-A1 à signer",
        f"{CONVENTIONS[C.nom]} ({C.nom}) : fin le 31 décembre 2018, renouvelable"]
    [digest] = story.runs["15 novembre"].digests
    fins = body(digest).split("Conventions arrivant prochainement à leur terme :")[1]
    assert f"  - CONV-2018-003 ({C.nom}) : fin le 31 décembre 2018, renouvelable" in fins
    assert fr(digest["Subject"]).endswith("aucun envoi, 1 retard, 3 fins de convention proches")


def test_renewal_opens_the_next_years_echeances_and_the_convention_no_longer_ends_soon(story):
    run = story.runs["21 novembre"]
    assert run.report.ouvertes == 2
    echeances = {jeton: (due_le, demande_le) for jeton, _, due_le, demande_le, _ in story.echeances()}
    assert echeances["BIL-CONV-2018-001-MI-2019"] == (date(2019, 7, 30), None)
    assert echeances["BIL-CONV-2018-001-FIN-2019"] == (date(2020, 2, 29), None)
    assert "BIL-CONV-2018-002-MI-2019" not in echeances
    assert [f.split(" ")[0] for f in run.report.fins_prochaines] == ["CONV-2018-002", "CONV-2018-003"]
    assert [m for m in run.mails if to(m) != SA] == []


# --- the consolidated report ------------------------------------------------------------------

TOTAL_ROW = ENTETE + 4  # three conventions, one period each on 21 August


def suivi_rows(path: Path) -> dict[str, list]:
    ws = openpyxl.load_workbook(path)[SHEET_SUIVI]
    return {ws.cell(row, 1).value: [c.value for c in ws[row]] for row in range(ENTETE + 1, TOTAL_ROW + 1)}


def fill(ws, row: int, titre: str) -> str | None:
    cell = ws.cell(row, COL[titre])
    return cell.fill.fgColor.rgb[-6:] if cell.fill.fill_type == "solid" else None


def test_report_has_a_row_per_convention_and_period_with_its_figures_and_status(story):
    workbook, _ = story.rapport
    ws = openpyxl.load_workbook(workbook)[SHEET_SUIVI]
    assert ws["A2"].value == "Situation au 21 août 2018"
    rows = suivi_rows(workbook)
    assert list(rows) == [*CONVENTIONS.values(), "TOTAL PLIE"]
    a, b, c, total = rows.values()
    value = {titre: j - 1 for titre, j in COL.items()}
    assert [r[value["Période"]] for r in (a, b, c)] == ["mi-parcours 2018"] * 3
    assert [r[value["Statut du bilan"]] for r in (a, b, c)] == ["bilan reçu", "en retard", "à corriger"]
    assert (a[value["Entrées"]], a[value["Objectif entrées au prorata"]], a[value["File active"]]) == (60, 56, 120)
    assert (a[value["Taux de sorties positives"]], a[value["Budget consommé"]]) == (0.5, 40812.4)
    assert (b[value["Entrées"]], b[value["Objectif entrées au prorata"]]) == ("—", 28)
    assert c[value["Partenariats"]] == "—"  # the negative figure the rules refused is not reported
    assert (total[value["Entrées"]], total[value["Objectif entrées au prorata"]], total[value["ETP"]]) == (75, 112, 4)


def test_report_colours_each_realised_figure_against_its_pro_rata_objective(story):
    ws = openpyxl.load_workbook(story.rapport[0])[SHEET_SUIVI]
    a, b, c = ENTETE + 1, ENTETE + 2, ENTETE + 3
    assert fill(ws, a, "Entrées") == FONDS["vert"]  # 60 for 56
    assert fill(ws, a, "File active") == FONDS["orange"]  # 120 for 140
    assert fill(ws, a, "Partenariats") == FONDS["rouge"]  # 1 for 3
    assert fill(ws, c, "Entrées") == FONDS["rouge"]  # 15 for 28
    assert fill(ws, b, "Entrées") is None and fill(ws, c, "Partenariats") is None
    assert ws.cell(TOTAL_ROW, 1).font.b and fill(ws, TOTAL_ROW, "Convention") == "D9E1F2"


def test_report_draws_its_charts_on_the_graphiques_sheet_for_the_porteurs_who_reported(story):
    ws = openpyxl.load_workbook(story.rapport[0])[SHEET_GRAPHIQUES]
    titles = ["".join(run.t for p in chart.title.tx.rich.p for run in p.r) for chart in ws._charts]
    assert titles == ["Entrées : réalisé et objectif au prorata", "File active : réalisé et objectif au prorata",
                      "Taux de sorties positives : réalisé et objectif au prorata"]
    porteurs = [ws.cell(row, 1).value for row in range(5, ws.max_row + 1) if ws.cell(row, 1).value]
    assert porteurs == [A.nom, f"{B.nom} (non renseigné)", C.nom]


def test_report_synthesis_for_the_comite_is_a_french_docx_with_the_points_of_attention(story):
    text = fr(read_docx_text(story.rapport[1]))
    assert "Suivi des conventions — situation au 21 août 2018" in text
    for p in (A, B, C):
        assert f"Convention n° {CONVENTIONS[p.nom]} — {p.nom}" in text
    assert "Budget consommé : 40 812,40 € sur 83 000,00 € prévus (49 %)." in text
    attention = text.split("Points d'attention")[1]
    assert f"CONV-2018-002 ({B.nom}) : bilan mi-parcours 2018 en retard" in attention
    assert f"CONV-2018-003 ({C.nom}) : bilan mi-parcours 2018 à corriger" in attention
    assert f"CONV-2018-001 ({A.nom}), mi-parcours 2018 : insuffisant sur partenariats entreprises" in attention
    # every « insuffisant » of the table is a point d'attention, in the table's words, and nothing else is
    table = text.split("Points d'attention")[0].splitlines()
    points = [line.split("insuffisant sur ")[1] for line in attention.splitlines() if "insuffisant sur " in line]
    assert sum(line.strip() == "insuffisant" for line in table) == sum(len(p.split(", ")) for p in points) > 0


@pytest.mark.database_matters("aggregates computed in SQL")
def test_total_counts_each_convention_once_when_it_has_several_periods(story):
    """On 2 March 2019 the final 2018 bilans are due too: the total keeps each convention's latest bilan."""
    workbook, _ = write_suivi_report_at(story, date(2019, 3, 2), "rapport-mars-2019.xlsx")
    ws = openpyxl.load_workbook(workbook)[SHEET_SUIVI]
    lignes = [(ws.cell(r, 1).value, ws.cell(r, COL["Période"]).value) for r in range(ENTETE + 1, ws.max_row + 1)
              if str(ws.cell(r, 1).value).startswith("CONV-")]
    assert lignes == [(n, p) for n in CONVENTIONS.values() for p in ("mi-parcours 2018", "final 2018")]
    total = ENTETE + len(lignes) + 1
    assert ws.cell(total, 1).value == "TOTAL PLIE"
    # A and C: their mid-term bilans (56 + 28); B, which sent none: its final (56 for 1 ETP over the year)
    assert (ws.cell(total, COL["ETP"]).value, ws.cell(total, COL["Entrées"]).value) == (4, 75)
    assert ws.cell(total, COL["Objectif entrées au prorata"]).value == 140
    text = fr(read_docx_text(workbook.with_suffix(".docx")))
    assert "le suivi de 3 conventions de l'appel" in text  # six rows, three conventions


@pytest.mark.database_matters("times stored in UTC compared in SQL")
def test_report_replaying_a_past_day_is_dated_in_paris_and_ignores_later_bilans(story):
    """Half past midnight in Paris on 31 July is still 30 July in UTC; C's bilan was then the one with errors."""
    with story.factory() as session:
        workbook, _ = write_suivi_report(session, 2018, story.tmp / "rapport-31-juillet.xlsx",
                                         maintenant=datetime(2018, 7, 31, 0, 30, tzinfo=PARIS).astimezone(UTC))
    assert openpyxl.load_workbook(workbook)[SHEET_SUIVI]["A2"].value == "Situation au 31 juillet 2018"
    rows = suivi_rows(workbook)
    assert [rows[n][COL["Statut du bilan"] - 1] for n in CONVENTIONS.values()] == [
        "bilan reçu", "en retard", "à corriger"]


def test_cli_writes_the_report_and_its_synthesis(story, tmp_path):
    target = tmp_path / "suivi 2018.xlsx"
    env = {**os.environ, "AAP_DATABASE_URL": story.url, "AAP_STORAGE_DIR": str(story.storage.root)}
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "suivi", "rapport", str(target), "--appel", "2018",
         "--maintenant", "2018-09-01T09:00"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert target.is_file() and target.with_suffix(".docx").is_file()
    assert f"Rapport : {target}" in result.stdout
    rows = suivi_rows(target)
    assert rows["CONV-2018-003"][COL["Statut du bilan"] - 1] == "bilan reçu"
    assert "Suivi des conventions — situation au 1er septembre 2018" in fr(read_docx_text(target.with_suffix(".docx")))


# --- documents per convention -----------------------------------------------------------------


def test_fiches_de_presence_one_per_referent_for_the_month(story):
    with story.factory() as session:
        fiches = render_fiches_presence(session, story.storage, "CONV-2018-001", date(2018, 3, 1), pdf=False)
    assert [f.name for f in fiches] == ["fiche_2018-03_1.docx", "fiche_2018-03_2.docx"]
    for fiche, referent in zip(fiches, ("Prénom1 Nom1", "Prénom2 Nom2"), strict=True):
        text = fr(read_docx_text(fiche))
        assert referent in text and "mars 2018" in text and "CONV-2018-001" in text and A.nom in text


KINDS = ("Index", "Dossier de réponse", "Attestation de dépôt", "Note d'instruction", "Décision du comité",
         "Convention", "Avenant", "Bilan", "Accusé de réception", "Justificatif", "Journal des opérations")


@pytest.fixture(scope="module")
def fse_pack(story, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CONV-2018-003's FSE pack on 3 September 2018, assembled once per story: the tests below only read it."""
    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) absent : le dossier FSE ne peut pas être assemblé en PDF")
    with story.factory() as session:
        return build_fse_pack(session, story.storage, "CONV-2018-003", tmp_path_factory.mktemp("fse") / "fse.pdf",
                              maintenant=morning(date(2018, 9, 3)))


def test_fse_pack_is_complete_in_the_convention_s_order_with_a_bookmark_per_document(fse_pack):
    reader = PdfReader(fse_pack)
    titles = [item.title for item in reader.outline]
    assert titles[0] == "Index du dossier et des justificatifs"
    assert "Dossier de réponse (courriel, reçu le 6 décembre 2017)" in titles
    assert sum(t.startswith("Attestation de dépôt ") for t in titles) == 2  # by e-mail and by post
    assert "Note d'instruction n° 1 du 8 décembre 2017" in titles
    assert "Décision du comité du 11 décembre 2017 (retenu)" in titles
    assert "Convention CONV-2018-003" in titles
    for numero in ("BIL-2018-0002", "BIL-2018-0003"):
        assert f"Bilan {numero} — bilan mi-parcours 2018" in titles
        assert f"Accusé de réception {numero}" in titles
    assert "Justificatif frais_km.pdf (BIL-2018-0003)" in titles
    assert "Justificatif frais_km.pdf (BIL-2018-0002)" not in titles  # listed, never received
    rangs = [next(k for k, kind in enumerate(KINDS) if t.startswith(kind)) for t in titles]
    assert rangs[:rangs.index(KINDS.index("Bilan"))] == sorted(rangs[:rangs.index(KINDS.index("Bilan"))])
    assert len(reader.pages) > len(titles)
    first_pages = {item.title: reader.get_destination_page_number(item) for item in reader.outline}
    assert sorted(first_pages.values()) == list(first_pages.values())
    index = " ".join(fr(" ".join(reader.pages[n].extract_text() for n in range(first_pages[titles[1]]))).split())
    assert "Dossier de contrôle de service fait — convention n° CONV-2018-003" in index.replace("- ", "-")
    assert index.count("fichier non reçu") == 1  # BIL-2018-0002's frais_km.pdf; « Frais_KM.pdf » is the one received


def test_fse_pack_ends_with_the_dossier_s_journal_whose_attached_entries_recompute_to_their_hashes(fse_pack):
    import hashlib
    import json

    reader = PdfReader(fse_pack)
    last = reader.outline[-1]
    assert last.title == "Journal des opérations du dossier et sceaux du jour"
    page = " ".join(fr(" ".join(reader.pages[n].extract_text()
                                for n in range(reader.get_destination_page_number(last), len(reader.pages)))).split())
    assert "Comment vérifier cet extrait" in page and "aap journal verifier" in page
    [(name, [data])] = reader.attachments.items()
    extrait = json.loads(data)
    assert name == "journal_2018-003.json" and extrait["dossier"] == "2018-003"
    entrees = extrait["entrees"]
    assert entrees and all(hashlib.sha256((e["precedente"] + e["canonique"]).encode("utf-8")).hexdigest()
                           == e["empreinte"] for e in entrees)
    genres = {json.loads(e["canonique"])["genre"] for e in entrees}
    assert {"depot_enregistre", "attestation_numerotee", "instruction", "decision", "convention_etablie"} <= genres
    assert entrees[0]["empreinte"][:16] in page.replace(" ", "")
    assert all(e["canonique"].count("@") == 0 for e in entrees)  # no address, ever


def test_fse_pack_is_a4_portrait_throughout_and_its_bilans_show_french_amounts(fse_pack):
    reader = PdfReader(fse_pack)
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height)), p.get("/Rotate", 0))
            for p in reader.pages} == {(595, 842, 0)}
    starts = sorted((reader.get_destination_page_number(item), item.title) for item in reader.outline)
    [(debut, _)] = [(n, t) for n, t in starts if t == "Bilan BIL-2018-0003 — bilan mi-parcours 2018"]
    fin = next(n for n, _ in starts if n > debut)
    bilan = fr(" ".join(reader.pages[n].extract_text() for n in range(debut, fin)))
    assert "15 000,00 €" in bilan and "400,00 €" in bilan
    assert "15,000.00" not in bilan


# --- who may send a bilan -----------------------------------------------------------------------


def test_a_bilan_from_an_address_unknown_for_its_convention_is_held_and_nothing_goes_to_the_sender(story):
    answer = story.answers["usurpation"]
    [entry] = story.queues["usurpation"]
    assert (entry["statut"], entry["motif"], entry["convention"]) == (
        "à vérifier", "expéditeur inconnu pour cette structure", JETON[B.nom])
    assert entry["expediteur"] == USURPATEUR
    assert all(to(m) != USURPATEUR for m in answer.mails)
    [notice] = answer.mails
    assert to(notice) == B.email and "vérification" in notice["Subject"]
    assert "CONV-2018-002" in body(notice) and "Entrées" not in body(notice)
    bilan = story.bilans()[entry["bilan"]]
    assert (bilan.echeance_id, bilan.conforme, bilan.accuse_chemin) == (None, False, None)
    assert bilan.verification.value == "rejeté" and any("la structure ne connaît pas cet envoi" in e for e in bilan.erreurs)


def test_a_held_bilan_confirmed_by_the_sa_joins_its_echeance_and_is_acknowledged_to_the_known_contact(story):
    [entry] = story.queues["collègue"]
    assert entry["expediteur"] == COLLEGUE_B and entry["statut"] == "à vérifier"
    bilan = story.bilans()[entry["bilan"]]
    assert bilan.verification.value == "confirmé" and "expéditeur inconnu pour cette structure" not in bilan.erreurs
    with story.factory() as s:
        assert s.get(Echeance, bilan.echeance_id).jeton == JETON[B.nom]
    [accuse] = story.answers["après confirmation"].mails
    assert to(accuse) == B.email and entry["bilan"] in accuse["Subject"]
    assert story.queues["fin"] == []



def test_the_echeancier_and_the_returned_bilans_say_in_french_what_they_did(story):
    assert sorted(story.runs["15 juillet"].logs[:3]) == [  # the same due date: in the order they were opened
        f"Demande de bilan mi-parcours 2018 — {CONVENTIONS[p.nom]} ({p.nom}) : mise en file d'envoi." for p in (A, B, C)]
    assert "Courriel « demande de bilan » (BIL-CONV-2018-001-MI-2018) envoyé." in story.runs["15 juillet"].logs
    assert story.runs["15 juillet, encore"].logs == [
        "Récapitulatif de l'échéancier du 15 juillet 2018 déjà envoyé aujourd'hui : rien de nouveau."]
    late = story.runs["20 août"].logs
    assert f"Relance n° 2 du bilan mi-parcours 2018 — CONV-2018-002 ({B.nom}) : mise en file d'envoi." in late
    assert (f"Bilan en retard : CONV-2018-002 ({B.nom}) : bilan mi-parcours 2018 attendu le 30 juillet 2018, "
            "non reçu (21 jours de retard).") in late
    assert story.answers["A"].logs[0] == (
        f"Bilan BIL-2018-0001 reçu : convention CONV-2018-001 ({A.nom}), bilan mi-parcours 2018, conforme.")
    assert story.answers["C avec erreurs"].logs[0] == (
        f"Bilan BIL-2018-0002 reçu : convention CONV-2018-003 ({C.nom}), bilan mi-parcours 2018, à corriger (4 erreurs).")
    assert story.answers["usurpation"].logs[0] == ("Bilan BIL-2018-0004 reçu à vérifier : expéditeur inconnu pour cette "
                                                   f"structure ({B.nom}, convention CONV-2018-002).")
    assert "Accusé de réception du bilan BIL-2018-0001 rédigé (convention CONV-2018-001)." in story.answers["A"].logs
    every = [line for run in [*story.runs.values(), *story.answers.values()] for line in run.logs]
    assert not [line for line in every if "@" in line]
