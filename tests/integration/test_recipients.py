"""Every kind of mail goes to exactly one address, whatever the porteurs typed as their contact e-mail.

A call is played once per database (``story``): four structures answer with a hostile « courriel de la personne à
contacter » (a list, a CR/LF with a Bcc, a group, a display-name trick) from their own valid address; they go
through the real intake, instruction, comité, conventions, a modification avenant, the échéancier's requests and
reminders, a returned bilan and its receipt, and the SA's digest. Two known structures are announced the call:
one registered with a list as its address, one whose address was written hostile straight into the database.
The tests then read the SMTP sink: every RCPT it was given, and each message's envelope and headers.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from actions.attestations import render_pending
from actions.bilans import render_pending_accuses
from actions.comite import notify_decisions, prepare_comite, record_decisions
from actions.convention_documents import render_pending_conventions
from actions.conventions import Modification, establish_conventions, modify, sign
from actions.depots import register_postal
from actions.echeancier import run_echeancier
from actions.instruction import instruct_appel
from actions.outbox import send_pending
from actions.publication import publish_appel, register_known_porteur
from adapters.database import session_factory, transaction
from adapters.smtp import MailSettings
from adapters.smtp_sink import SmtpSink
from adapters.storage import Storage
from config.appel_config import load_appel_config
from forms.bilan import fill_bilan_form
from forms.synthese import fill_decisions
from models import Courriel, CourrielStatut, Depot
from models.porteur import Porteur
from tests.conftest import _PG_REASON, PUBLICATION, pg_database, run_intake
from tests.samples import cv_pdf, cvs, deliver, form_bytes, paris, porteur

UTC, PARIS = timezone.utc, ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.shared_per_database("story")  # one story per database, each on one xdist worker
SA = "assistante.plie@example.org"
HOSTILE = {
    21: "a@example.org, b@example.org",
    22: "x@example.org\r\nBcc: y@example.org",
    23: "amis: a@example.org, b@example.org;",
    24: '"Evil <a@example.org>" <b@example.org>',
}
PORTEURS = {n: porteur(n) for n in HOSTILE}
CONNUE, CONNUE_LISTE, CONNUE_ABIMEE = porteur(31), porteur(32), porteur(33)
KINDS = ["annonce", "attestation", "decision", "convention", "avenant", "demande", "relance", "accuse", "digest"]
BILAN = {
    "bilan_entrees": 20, "bilan_file_active": 40, "bilan_sorties": 4, "bilan_sp_cdi": 1,
    "bilan_qualitatif": "Démarrage.", "bilan_depense_salaires": Decimal("20000.00"),
    "bilan_depense_deplacements": Decimal("0"), "bilan_ressource_plie": Decimal("10000.00"),
    "justificatifs": [("salaires", "Bulletins de salaire", Decimal("20000.00"), "paie.pdf")],
}


def morning(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), PARIS)


@dataclass
class Story:
    factory: object
    storage: Storage
    sink: SmtpSink

    def kind_of(self) -> dict[str, str]:
        """Message-ID → kind of mail (the outbox key's first word)."""
        with self.factory() as s:
            return {mid: cle.split(":")[0] for mid, cle in s.execute(select(Courriel.message_id, Courriel.cle))}

    def received(self, kind: str) -> list[EmailMessage]:
        kinds = self.kind_of()
        return [m for m in self.sink.messages() if kinds.get(m["Message-ID"]) == kind]


def play(factory, storage: Storage, sink: SmtpSink, mail: MailSettings, tmp: Path) -> Story:
    register_known_porteur(factory, siret=CONNUE.siret, nom=CONNUE.nom, email=CONNUE.email)
    register_known_porteur(factory, siret=CONNUE_LISTE.siret, nom=CONNUE_LISTE.nom, email=HOSTILE[21])
    register_known_porteur(factory, siret=CONNUE_ABIMEE.siret, nom=CONNUE_ABIMEE.nom, email=CONNUE_ABIMEE.email)
    with transaction(factory) as s:  # as if written by an older version: the outbox must still refuse it
        s.execute(update(Porteur).where(Porteur.siret == CONNUE_ABIMEE.siret).values(contact_email=HOSTILE[22]))
    publish_appel(factory, storage, load_appel_config(2018), maintenant=PUBLICATION)

    maildir = tmp / "boite"
    for i, (n, p) in enumerate(PORTEURS.items()):
        deliver(maildir, sender=p.email, when=paris(6, 10, i), sender_name=p.nom, message_id=f"<depot-{n}@example.org>",
                attachments=[("dossier.xlsx", form_bytes(tmp / "forms", p, contact_email=HOSTILE[n])), *cvs(p)])
    run_intake(factory, storage, maildir, mail)
    for p in PORTEURS.values():
        scan = tmp / f"courrier-{p.siret}.pdf"
        scan.write_bytes(cv_pdf(f"Courrier de {p.nom}"))
        register_postal(factory, storage, 2018, siret=p.siret, recu_le=paris(6, 15), files=[scan], nom=None,
                        maintenant=paris(6, 15))
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    instruct_appel(factory, storage, 2018, maintenant=datetime(2017, 12, 8, 13, tzinfo=UTC), pdf=False)
    pack = prepare_comite(factory, storage, 2018, comite_le=None, sortie=tmp / "comite",
                          maintenant=datetime(2017, 12, 9, 9, tzinfo=UTC))
    rempli = fill_decisions(pack.synthese, {n: ("Retenu", "") for n in pack.dossiers}, tmp / "decisions.xlsx")
    comite = datetime(2017, 12, 11, 17, tzinfo=UTC)
    record_decisions(factory, 2018, rempli, date_comite=None, maintenant=comite)
    notify_decisions(factory, storage, 2018, pdf=False, maintenant=comite)
    numeros = establish_conventions(factory, 2018, maintenant=datetime(2017, 12, 15, 9, tzinfo=UTC))
    for numero in numeros:
        sign(factory, numero, le=date(2017, 12, 20))
        modify(factory, numero, Modification(remplacements={"Prénom1 Nom1": "Camille Durand"}), valide_le=date(2018, 3, 1),
               instance="bureau du PLIE", maintenant=morning(date(2018, 3, 1)))
    render_pending_conventions(factory, storage, pdf=False)
    send_pending(factory, mail, storage.root)

    run_echeancier(factory, storage, maintenant=morning(date(2018, 7, 15)), sa_email=SA)
    send_pending(factory, mail, storage.root)
    first = PORTEURS[21]
    story = Story(factory, storage, sink)
    for demande in [m for m in story.received("demande") if m["X-Envelope-To"] == first.email][:1]:
        # the structure answers the request it received (none arrived if its hostile field was obeyed)
        [(nom, blank)] = [(a.get_filename(), a.get_content()) for a in demande.iter_attachments()]
        (tmp / "bilan").mkdir()
        (tmp / "bilan" / nom).write_bytes(blank)
        rempli = fill_bilan_form(tmp / "bilan" / nom, tmp / "bilan" / f"rempli-{nom}", BILAN)
        deliver(maildir, sender=first.email, when=morning(date(2018, 7, 20), 10), sender_name=first.nom,
                subject=f"RE: {demande['Subject']}", message_id="<bilan-21@example.org>",
                attachments=[(nom, rempli.read_bytes()), ("paie.pdf", cv_pdf("Bulletins"))])
        run_intake(factory, storage, maildir, mail, maintenant=morning(date(2018, 7, 20), 11))
        render_pending_accuses(factory, storage, pdf=False)
        send_pending(factory, mail, storage.root)
    run_echeancier(factory, storage, maintenant=morning(date(2018, 8, 20)), sa_email=SA)
    send_pending(factory, mail, storage.root)
    return story


@pytest.fixture(scope="module")
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    tmp = tmp_path_factory.mktemp(f"destinataires-{request.param}")
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
            mail = MailSettings(host="127.0.0.1", port=sink.port, sender="PLIE du bassin dijonnais <plie@example.org>")
            factory = session_factory(url)
            yield play(factory, Storage(tmp / "storage"), sink, mail, tmp)
    finally:
        if database is not None:
            database.close()


def test_every_message_the_server_received_had_exactly_one_rcpt_and_one_to_and_no_copy(story):
    messages = story.sink.messages()

    assert len(story.sink.rcpts) == len(messages) > 0
    for m in messages:
        assert "," not in m["X-Envelope-To"]
        assert [a.addr_spec for a in m["To"].addresses] == [m["X-Envelope-To"]]
        assert m["Cc"] is None and m["Bcc"] is None
    assert Counter(story.sink.rcpts) == Counter(m["X-Envelope-To"] for m in messages)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_mail_reaches_exactly_one_valid_address_despite_hostile_contact_fields(story, kind):
    received = story.received(kind)

    expected = {"digest": {SA}, "annonce": {CONNUE.email}}.get(kind, {p.email for p in PORTEURS.values()})
    if kind == "accuse":
        expected = {PORTEURS[21].email}
    assert received, f"aucun courriel « {kind} » reçu"
    if kind == "relance":  # whoever has no accepted bilan yet
        assert {p.email for n, p in PORTEURS.items() if n != 21} <= {m["X-Envelope-To"] for m in received} <= expected
    else:
        assert {m["X-Envelope-To"] for m in received} == expected
    for m in received:
        assert [a.addr_spec for a in m["To"].addresses] == [m["X-Envelope-To"]]


def test_a_refused_contact_field_is_stored_with_its_depot_in_french_and_the_sender_becomes_the_contact(story):
    with story.factory() as s:
        for n, p in PORTEURS.items():
            depot = s.scalar(select(Depot).where(Depot.message_id == f"<depot-{n}@example.org>"))
            [motif] = [m for m in depot.motifs if "Courriel de la personne à contacter" in m]
            assert motif.endswith("l'adresse de l'expéditeur est utilisée"), motif
            assert " refusé : " in motif
            assert s.scalar(select(Porteur.contact_email).where(Porteur.siret == p.siret)) == p.email


def test_a_known_structure_registered_with_a_list_for_address_is_not_announced_to_it(story):
    with story.factory() as s:
        assert s.scalar(select(Porteur.contact_email).where(Porteur.siret == CONNUE_LISTE.siret)) is None
    assert not any(r in ("a@example.org", "b@example.org") for r in story.sink.rcpts)


def test_a_hostile_address_already_in_the_database_is_refused_at_the_outbox_with_its_reason(story):
    with story.factory() as s:
        porteur_id = s.scalar(select(Porteur.id).where(Porteur.siret == CONNUE_ABIMEE.siret))
        row = s.scalar(select(Courriel).where(Courriel.cle == f"annonce:2018:{porteur_id}"))
    assert row.statut is CourrielStatut.FAILED and row.tentatives == 0
    assert row.erreur.startswith("destinataire refusé avant l'envoi (saut de ligne")
    assert not any(r.startswith(("x@", "y@")) for r in story.sink.rcpts)
