"""Instruction, the comité's synthesis, its decisions and their notification, end to end on a real database:
dossiers come in through the real intake (e-mail and post), the synthesis is filled as the SA fills it."""
from __future__ import annotations

import csv
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from actions.comite import (
    DecisionsRefusees,
    notify_decisions,
    prepare_comite,
    record_decisions,
)
from actions.depots import SaisieRefusee, register_postal
from actions.export import export_appel
from actions.instruction import admit_late_dossier, instruct_appel
from actions.listing import list_dossiers
from actions.outbox import send_pending
from adapters.smtp import MailSettings
from adapters.smtp_sink import SmtpSink
from adapters.storage import Storage
from forms.synthese import COLONNES, fill_decisions, read_synthese, write_synthese
from models import Comite, Courriel, DecisionComite, Depot, Dossier, Instruction
from templates.render import read_docx_text
from tests.conftest import run_intake
from tests.samples import cv_pdf, cvs, deliver, form_bytes, paris, porteur

UTC = timezone.utc
pytestmark = pytest.mark.shared_per_database("db_url")  # its snapshots built once per database, on one worker
INSTRUCTION = datetime(2017, 12, 8, 13, 0, tzinfo=UTC)
PREPARATION = datetime(2017, 12, 9, 9, 0, tzinfo=UTC)
COMITE = datetime(2017, 12, 11, 17, 0, tzinfo=UTC)
DEPOT = paris(6, 10)
NOT_OURS = ("ce classeur n'est pas une synthèse produite pour l'appel 2018 (« aap comite preparer ») : "
            "aucune décision enregistrée")
QUESTIONS = "Merci d'envoyer l'original signé par courrier.\nQuel est le planning de recrutement ?"


def fr(text: str) -> str:
    """Babel's U+202F / U+00A0 separators as plain spaces, for readable assertions."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@dataclass
class Campagne:
    """One call's intake as the SA lives it: e-mails in a Maildir, envelopes scanned, then the back office."""

    factory: object
    storage: Storage
    mail: MailSettings
    sink: SmtpSink
    maildir: Path
    tmp: Path

    def by_mail(self, p, when: datetime, *, n: int = 1, skip: frozenset[int] = frozenset(), with_form: bool = True,
                **form_changes) -> None:
        attachments = [("dossier.xlsx", form_bytes(self.tmp / "forms", p, **form_changes))] if with_form else []
        deliver(self.maildir, sender=p.email, when=when, message_id=f"<m{n}-{p.siret}@example.org>", sender_name=p.nom,
                attachments=[*attachments, *cvs(p, skip)])

    def by_post(self, p, when: datetime, *, maintenant: datetime | None = None) -> Depot:
        scan = self.tmp / f"scan-{p.siret}-{when:%m%d%H%M%S}.pdf"
        scan.write_bytes(cv_pdf(f"Courrier de {p.nom} du {when:%d/%m/%Y %H:%M:%S}"))
        depot, _ = register_postal(self.factory, self.storage, 2018, siret=p.siret, recu_le=when, files=[scan], nom=None,
                                   maintenant=maintenant or when)
        return depot

    def intake(self, maintenant: datetime = datetime(2017, 12, 8, 7, 30, tzinfo=UTC)):
        return run_intake(self.factory, self.storage, self.maildir, self.mail, maintenant=maintenant)

    def complete(self, *porteurs, when: datetime = DEPOT) -> dict[str, str]:
        """Each porteur sends by mail and by post, in time: complete dossiers. Returns {porteur name: numero}."""
        for i, p in enumerate(porteurs):  # one minute apart: numbered in this order
            self.by_mail(p, when + timedelta(minutes=i))
        self.intake()
        for p in porteurs:
            self.by_post(p, when)
        return self.numeros()

    def numeros(self) -> dict[str, str]:
        return {r["porteur"]: r["numero"] for r in self.rows().values()}

    def rows(self) -> dict[str, dict]:
        with self.factory() as s:
            return {r["numero"]: r for r in list_dossiers(s, 2018, str(self.storage.root)) if r["numero"]}

    def instruct(self, maintenant: datetime = INSTRUCTION):
        return instruct_appel(self.factory, self.storage, 2018, maintenant=maintenant, pdf=False)

    def prepare(self, comite_le: date | None = None, maintenant: datetime = PREPARATION):
        return prepare_comite(self.factory, self.storage, 2018, comite_le=comite_le, sortie=self.tmp / "comite",
                              maintenant=maintenant)

    def fill(self, synthese: Path, choix: dict[str, tuple[str, str]], name: str = "remplie.xlsx") -> Path:
        return fill_decisions(synthese, choix, self.tmp / name)

    def record(self, fichier: Path, maintenant: datetime = COMITE):
        return record_decisions(self.factory, 2018, fichier, date_comite=None, maintenant=maintenant)

    def refused(self, fichier: Path) -> list[str]:
        """The decisions file is refused with these French lines, and nothing at all was recorded."""
        before = self.snapshot()
        with pytest.raises(DecisionsRefusees) as refus:
            self.record(fichier)
        assert self.snapshot() == before
        assert notify_decisions(self.factory, self.storage, 2018, pdf=False, maintenant=COMITE) == 0
        assert self.decisions() == 0 and self.decision_mails() == 0
        return [fr(p) for p in refus.value.problemes]

    def snapshot(self) -> list[tuple]:
        with self.factory() as s:
            return list(s.execute(select(Dossier.numero, Dossier.statut, Dossier.reponse_avant).order_by(Dossier.seq)))

    def decisions(self) -> int:
        with self.factory() as s:
            return s.scalar(select(func.count()).select_from(DecisionComite))

    def decision_mails(self) -> int:
        with self.factory() as s:
            return s.scalar(select(func.count()).select_from(Courriel).where(Courriel.cle.like("decision:%")))

    def notify_and_send(self, maintenant: datetime = COMITE) -> tuple[int, int]:
        lettres = notify_decisions(self.factory, self.storage, 2018, pdf=False, maintenant=maintenant)
        return lettres, send_pending(self.factory, self.mail, self.storage.root).envoyes

    def instructions(self, numero: str) -> list[Instruction]:
        with self.factory() as s:
            return list(s.scalars(select(Instruction).join(Dossier, Dossier.id == Instruction.dossier_id)
                                  .where(Dossier.numero == numero).order_by(Instruction.version)))

    def note(self, numero: str) -> str:
        return fr(read_docx_text(self.storage.root / self.instructions(numero)[-1].note_chemin))

    def decision_mails_to(self, p) -> list:
        return [m for m in self.sink.messages() if m["To"].addresses[0].addr_spec == p.email and "décision" in m["Subject"]]


@pytest.fixture
def campagne(factory, storage, appel, sink, mail, maildir, tmp_path) -> Campagne:
    return Campagne(factory, storage, mail, sink, maildir, tmp_path)


FAVORABLE, SANS_DEPLACEMENTS, COURRIEL_SEUL = porteur(1, referents=2), porteur(2), porteur(3)


@pytest.fixture
def trois(campagne: Campagne, world, snapshots) -> dict[str, str]:
    """Three instructed dossiers and their synthesis: favorable, défavorable (no travel costs), réservé (no postal copy).

    Built once per module and database, then copied into each test (tests/snapshots.py)."""
    return snapshots.restore("trois", lambda w: build_trois(Campagne(w.factory, w.storage, w.mail, w.sink, w.maildir, w.tmp)),
                             world)


def build_trois(campagne: Campagne) -> dict[str, str]:
    campagne.by_mail(FAVORABLE, paris(6, 10))
    campagne.by_mail(SANS_DEPLACEMENTS, paris(6, 11), budget_deplacements=Decimal("0"))
    campagne.by_mail(COURRIEL_SEUL, paris(6, 12))
    campagne.intake()
    campagne.by_post(FAVORABLE, paris(6, 15))
    campagne.by_post(SANS_DEPLACEMENTS, paris(6, 15))
    campagne.instruct()
    numeros = campagne.numeros()
    assert [numeros[p.nom] for p in (FAVORABLE, SANS_DEPLACEMENTS, COURRIEL_SEUL)] == ["2018-001", "2018-002", "2018-003"]
    return numeros


def decide_all(**overrides: tuple[str, str]) -> dict[str, tuple[str, str]]:
    """The comité's decisions on the three dossiers of ``trois``, some overridden (keys without the year)."""
    choix = {"2018-001": ("Retenu", ""), "2018-002": ("Non retenu", "Frais de déplacement absents du budget."),
             "2018-003": ("Ajourné", QUESTIONS)}
    choix.update({f"2018-{k[1:]}": v for k, v in overrides.items()})
    return choix


# --- instruction ---------------------------------------------------------------------------------


@pytest.mark.database_matters("Numeric amounts to the cent")
def test_each_salary_ceiling_is_applied_to_the_cent_through_a_real_form(campagne):
    def un_referent(n: int, etp: str, salaire: str):
        return replace(porteur(n), referents=(("Dupont", "Anne", etp, salaire),))

    cases = {un_referent(11, "1", "44500.00"): None, un_referent(12, "1", "44500.01"): ("44 500,01 €", "44 500,00 €", "1"),
             un_referent(13, "0.5", "22250.00"): None, un_referent(14, "0.5", "22250.01"): ("22 250,01 €", "22 250,00 €", "0,5")}
    numeros = campagne.complete(*cases)

    report = campagne.instruct()

    assert sorted(report.instruits) == sorted(numeros.values())
    rows = campagne.rows()
    for p, depasse in cases.items():
        row = rows[numeros[p.nom]]
        if depasse is None:
            assert (row["avis"], row["constats"]) == ("favorable", ["dossier complet, budget conforme au cahier des charges"])
            continue
        salaire, plafond, etp = depasse
        texte = (f"Anne Dupont : salaire chargé de {salaire} supérieur au plafond de {plafond} pour {etp} ETP "
                 "(44 500,00 € par ETP)")
        assert (row["avis"], [fr(c) for c in row["constats"]]) == ("défavorable", [texte])
        assert texte in campagne.note(numeros[p.nom])


def test_instruction_gives_each_dossier_its_avis_findings_and_note(campagne, trois):
    rows = campagne.rows()

    assert {n: r["avis"] for n, r in rows.items()} == {"2018-001": "favorable", "2018-002": "défavorable", "2018-003": "réservé"}
    assert {r["statut"] for r in rows.values()} == {"instruit"}
    assert [fr(c) for c in rows["2018-002"]["constats"]] == [
        "frais de déplacement absents du budget : ils sont exigés pour les rencontres avec les entreprises",
        "budget non équilibré : dépenses 40 000,00 €, ressources 43 000,00 € (écart de 3 000,00 €)",
    ]
    assert rows["2018-003"]["constats"] == ["dossier incomplet : envoi postal (courrier) non reçu"]
    note = campagne.note("2018-002")
    assert "Note d'instruction — dossier n° 2018-002" in note and "Version 1 — instruite le 8 décembre 2017" in note
    assert "Avis défavorable" in note and "Points bloquants (2)" in note
    assert "frais de déplacement absents du budget" in note
    assert "Avis réservé" in campagne.note("2018-003") and "Avis favorable" in campagne.note("2018-001")
    assert [i.version for i in campagne.instructions("2018-001")] == [1]


def test_second_instruction_with_nothing_new_instructs_nothing(campagne, trois):
    report = campagne.instruct(datetime(2017, 12, 9, 8, 0, tzinfo=UTC))

    assert (report.instruits, sorted(report.inchanges), report.notes) == ([], ["2018-001", "2018-002", "2018-003"], 0)
    with campagne.factory() as s:
        assert s.scalar(select(func.count()).select_from(Instruction)) == 3


def test_complement_in_time_reinstructs_only_that_dossier_and_keeps_the_first_instruction(campagne):
    autre, cv_manquant = porteur(21), porteur(22, referents=2)
    campagne.by_mail(autre, paris(4, 9))
    campagne.by_mail(cv_manquant, paris(4, 10), skip=frozenset({1}))
    campagne.intake(paris(4, 11))
    campagne.by_post(autre, paris(4, 15))
    campagne.by_post(cv_manquant, paris(4, 15))
    campagne.instruct(paris(5, 9))
    assert campagne.rows()["2018-002"]["avis"] == "réservé"

    campagne.by_mail(cv_manquant, paris(6, 9), n=2, skip=frozenset({0}), with_form=False)  # the missing CV, before the deadline
    campagne.intake(paris(6, 10))
    assert campagne.rows()["2018-002"]["statut"] == "complet"
    report = campagne.instruct(paris(8, 9))

    assert (report.instruits, report.inchanges, report.notes) == (["2018-002"], ["2018-001"], 1)
    history = campagne.instructions("2018-002")
    assert [(i.version, i.avis.value) for i in history] == [(1, "réservé"), (2, "favorable")]
    assert [fr(c["texte"]) for c in history[0].constats] == [
        "dossier incomplet : CV de Prénom2 Nom2 manquant (fichier attendu : CV_Prénom2_Nom2.pdf)"]
    assert (campagne.storage.root / history[0].note_chemin).is_file()  # the first note is kept
    note = campagne.note("2018-002")
    assert "Version 2 — instruite le 8 décembre 2017" in note and "Avis favorable" in note
    assert campagne.rows()["2018-002"]["statut"] == "instruit"


def test_late_dossier_is_instructed_only_once_admitted_and_its_note_says_why(campagne):
    late = porteur(23)
    campagne.by_mail(late, paris(7, 17, 1))
    campagne.intake()
    campagne.by_post(late, paris(8, 9))

    first = campagne.instruct()
    admit_late_dossier(campagne.factory, 2018, "2018-001", "Panne du serveur de messagerie du porteur, attestée.",
                       maintenant=paris(8, 15))
    second = campagne.instruct(paris(8, 16))

    assert (first.instruits, first.hors_delai_non_admis) == ([], ["2018-001"])
    assert second.instruits == ["2018-001"]
    assert "Panne du serveur de messagerie du porteur, attestée." in campagne.note("2018-001")


# --- the comité's synthesis ----------------------------------------------------------------------


def test_synthesis_lists_the_instructed_dossiers_with_their_avis_and_a_decision_list(campagne, trois):
    pack = campagne.prepare()

    assert (pack.comite_le, pack.dossiers, pack.non_instruits, pack.notes) == (
        date(2017, 12, 11), ["2018-001", "2018-002", "2018-003"], [], None)
    lue = read_synthese(pack.synthese)
    assert lue.annee == 2018
    assert [(d.ligne, d.numero, d.decision, d.motif) for d in lue.decisions] == [
        (6, "2018-001", "", ""), (7, "2018-002", "", ""), (8, "2018-003", "", "")]
    with campagne.factory() as s:
        assert s.scalar(select(Comite.jeton)) == lue.jeton
    ws = openpyxl.load_workbook(pack.synthese)["Synthèse"]
    assert [c.value for c in ws[5]] == [titre for titre, _ in COLONNES]
    assert [(ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 5).value, ws.cell(r, 12).value) for r in (6, 7, 8)] == [
        ("2018-001", FAVORABLE.nom, 2, "favorable"), ("2018-002", SANS_DEPLACEMENTS.nom, 1, "défavorable"),
        ("2018-003", COURRIEL_SEUL.nom, 1, "réservé")]
    assert ws.cell(6, 6).value == 80000 and ws.cell(6, 7).value == 40000  # coût salarial, par ETP
    assert "[bloquant] frais de déplacement absents du budget" in ws.cell(7, 10).value
    [liste] = ws.data_validations.dataValidation
    assert (liste.type, liste.formula1, str(liste.sqref)) == ("list", '"Retenu,Non retenu,Ajourné"', "M6:M8")
    texts = [fr(str(ws.cell(r, 1).value)) for r in range(9, 13) if ws.cell(r, 1).value]
    assert "ETP proposés avec un avis favorable : 2 sur 14 voulus" in texts


def test_dossiers_neither_instructed_nor_late_are_reported_as_waiting(campagne, trois):
    campagne.by_mail(porteur(24), paris(7, 16))
    campagne.intake(paris(8, 8))  # arrived in time, registered after the instruction

    pack = campagne.prepare()

    assert (pack.dossiers, pack.non_instruits) == (["2018-001", "2018-002", "2018-003"], ["2018-004"])


# --- decisions refused as a whole -----------------------------------------------------------------


def test_dossier_missing_from_the_workbook_refuses_the_file(campagne, trois):
    pack = campagne.prepare()
    rempli = campagne.fill(pack.synthese, decide_all())
    wb = openpyxl.load_workbook(rempli)
    wb["Synthèse"]["A7"].value = None  # the SA deleted the dossier's number
    wb.save(rempli)

    assert campagne.refused(rempli) == [f"dossier 2018-002 ({SANS_DEPLACEMENTS.nom}) absent du classeur"]


def test_unknown_dossier_in_the_workbook_refuses_the_file(campagne, trois):
    pack = campagne.prepare()
    rempli = campagne.fill(pack.synthese, decide_all())
    wb = openpyxl.load_workbook(rempli)
    wb["Synthèse"]["A7"].value = "2018-099"
    wb.save(rempli)

    assert campagne.refused(rempli) == [
        "ligne 7, dossier 2018-099 : dossier inconnu pour l'appel 2018",
        f"dossier 2018-002 ({SANS_DEPLACEMENTS.nom}) absent du classeur",
    ]


def test_decision_not_one_of_the_three_refuses_the_file(campagne, trois):
    pack = campagne.prepare()
    rempli = campagne.fill(pack.synthese, decide_all(_001=("Accepté", "")))

    assert campagne.refused(rempli) == [
        "ligne 6, dossier 2018-001 : décision « Accepté » inconnue (attendu : Retenu, Non retenu, Ajourné)"]


def test_a_decision_typed_in_lower_case_or_without_its_accent_is_the_one_meant(campagne, trois):
    """Excel's drop-down takes « retenu » for « Retenu »: the file is read as the SA meant it."""
    pack = campagne.prepare()
    rempli = campagne.fill(pack.synthese, decide_all(_001=("retenu", ""), _002=("  NON  retenu ", "Budget incomplet."),
                                                     _003=("ajourne", QUESTIONS)))

    report = campagne.record(rempli)

    assert report.enregistrees == ["2018-001", "2018-002", "2018-003"]
    assert {n: r["decision"] for n, r in campagne.rows().items()} == {
        "2018-001": "retenu", "2018-002": "non retenu", "2018-003": "ajourné"}


def test_decision_left_empty_refuses_the_file(campagne, trois):
    pack = campagne.prepare()
    choix = decide_all()
    del choix["2018-003"]
    rempli = campagne.fill(pack.synthese, choix)

    assert campagne.refused(rempli) == ["ligne 8, dossier 2018-003 : décision non renseignée"]


def test_ajourne_without_questions_refuses_the_file(campagne, trois):
    pack = campagne.prepare()
    rempli = campagne.fill(pack.synthese, decide_all(_003=("Ajourné", "   ")))

    assert campagne.refused(rempli) == [
        "ligne 8, dossier 2018-003 : décision « Ajourné » sans les questions complémentaires (colonne « Motif ou questions »)"]


def test_non_retenu_without_motif_refuses_the_file(campagne, trois):
    pack = campagne.prepare()
    rempli = campagne.fill(pack.synthese, decide_all(_002=("Non retenu", "")))

    assert campagne.refused(rempli) == [
        "ligne 7, dossier 2018-002 : décision « Non retenu » sans le motif (colonne « Motif ou questions »)"]


def test_every_problem_of_a_file_is_reported_at_once(campagne, trois):
    pack = campagne.prepare()
    rempli = campagne.fill(pack.synthese, decide_all(_001=("Oui", ""), _002=("Non retenu", "")))
    wb = openpyxl.load_workbook(rempli)
    wb["Synthèse"]["A8"].value = "2018-001"  # the same dossier twice, 2018-003 gone
    wb.save(rempli)

    assert campagne.refused(rempli) == [
        "ligne 6, dossier 2018-001 : décision « Oui » inconnue (attendu : Retenu, Non retenu, Ajourné)",
        "ligne 7, dossier 2018-002 : décision « Non retenu » sans le motif (colonne « Motif ou questions »)",
        "ligne 8, dossier 2018-001 : dossier présent deux fois dans le classeur",
        f"dossier 2018-003 ({COURRIEL_SEUL.nom}) absent du classeur",
    ]


def test_synthesis_not_produced_for_this_call_refuses_the_file(campagne, trois):
    pack = campagne.prepare()
    jeton = read_synthese(pack.synthese).jeton
    copie = write_synthese(  # a synthesis as aap writes them, with a token aap never issued
        campagne.tmp / "copie.xlsx", annee=2018, titre="Appel", comite_le=date(2017, 12, 11), referents_voulus=14,
        lignes=[], jeton="0" * 32)
    autre_annee = write_synthese(  # the right token, another call
        campagne.tmp / "2019.xlsx", annee=2019, titre="Appel", comite_le=date(2018, 12, 10), referents_voulus=14,
        lignes=[], jeton=jeton)
    sans_jeton = campagne.fill(pack.synthese, decide_all(), "sans_jeton.xlsx")
    wb = openpyxl.load_workbook(sans_jeton)
    wb["aap"]["B2"].value = None  # the hidden sheet's token erased
    wb.save(sans_jeton)

    assert campagne.refused(copie) == [NOT_OURS]
    assert campagne.refused(autre_annee) == [NOT_OURS]
    assert campagne.refused(sans_jeton) == [NOT_OURS]


def test_a_workbook_that_is_not_a_synthesis_at_all_is_refused_with_its_reason(campagne, trois):
    campagne.prepare()
    formulaire = campagne.tmp / "dossier.xlsx"
    formulaire.write_bytes(form_bytes(campagne.tmp / "forms", FAVORABLE))
    texte = campagne.tmp / "decisions.xlsx"
    texte.write_text("Retenu;Non retenu\n")

    assert campagne.refused(formulaire) == [
        ("ce classeur n'est pas une synthèse produite par aap pour le comité : zones nommées absentes : "
        "aap_annee, aap_jeton, aap_decisions")]
    assert campagne.refused(texte) == ["le fichier n'est pas un classeur Excel valide (fichier corrompu ou tronqué)"]
    assert campagne.refused(campagne.tmp / "absent.xlsx") == [
        f"fichier illisible : {campagne.tmp / 'absent.xlsx'} (fichier introuvable (déplacé ou supprimé entre-temps))"]


def test_dossier_sent_back_to_instruction_by_a_complement_cannot_be_decided(campagne):
    premier, second = porteur(25), porteur(26)
    campagne.by_mail(premier, paris(6, 9))
    campagne.by_mail(second, paris(6, 10))
    campagne.intake()
    campagne.instruct()  # both réservé: no postal copy yet
    pack = campagne.prepare()
    campagne.by_post(second, paris(7, 10), maintenant=paris(9, 11))  # stamped in time, scanned after the pack
    assert campagne.rows()["2018-002"]["statut"] == "complet"
    rempli = campagne.fill(pack.synthese, {"2018-001": ("Retenu", ""), "2018-002": ("Retenu", "")})

    assert campagne.refused(rempli) == [
        ("ligne 7, dossier 2018-002 : le dossier est « complet » : il ne peut pas être retenu "
        "(seul un dossier instruit peut recevoir une décision)")]


# --- decisions recorded ---------------------------------------------------------------------------


@pytest.mark.database_matters("a re-run or a repeat is refused by unique keys")
def test_decisions_are_recorded_then_each_porteur_gets_its_letter_by_mail_once(campagne, trois):
    pack = campagne.prepare()
    rempli = campagne.fill(pack.synthese, decide_all())
    attestations = len(campagne.sink.messages())

    report = campagne.record(rempli)
    lettres, envoyes = campagne.notify_and_send()

    assert (report.comite_le, report.enregistrees, report.inchangees, report.avertissements) == (
        date(2017, 12, 11), ["2018-001", "2018-002", "2018-003"], [], [])
    rows = campagne.rows()
    assert {n: r["decision"] for n, r in rows.items()} == {"2018-001": "retenu", "2018-002": "non retenu", "2018-003": "ajourné"}
    assert (rows["2018-001"]["reponse_avant"], rows["2018-003"]["reponse_avant"]) == (None, "2017-12-26")
    assert (lettres, envoyes) == (3, 3)
    letters = {n: fr(read_docx_text(campagne.storage.root / f"decisions/2018/DEC-{n}-20171211.docx")) for n in rows}
    assert "le comité a retenu votre dossier" in letters["2018-001"]
    assert "le comité n'a pas retenu votre dossier" in letters["2018-002"]
    assert "Frais de déplacement absents du budget." in letters["2018-002"]
    assert "Le comité a ajourné sa décision" in letters["2018-003"]
    assert "Quel est le planning de recrutement ?" in letters["2018-003"] and "26 décembre 2017" in letters["2018-003"]
    for p, numero, decision in ((FAVORABLE, "2018-001", "retenu"), (SANS_DEPLACEMENTS, "2018-002", "non retenu"),
                                (COURRIEL_SEUL, "2018-003", "ajourné")):
        [message] = campagne.decision_mails_to(p)
        assert message["Subject"].endswith(f"dossier {numero} {decision}")
        [attached] = list(message.iter_attachments())
        assert attached.get_filename() == f"DEC-{numero}-20171211.docx"
    body = fr(campagne.decision_mails_to(FAVORABLE)[0].get_body(("plain",)).get_content())
    assert "Votre dossier est retenu, pour 2 ETP de référent de parcours PLIE" in body
    assert len(campagne.sink.messages()) == attestations + 3

    again = campagne.record(rempli, maintenant=datetime(2017, 12, 12, 9, 0, tzinfo=UTC))

    assert (again.enregistrees, again.inchangees) == ([], ["2018-001", "2018-002", "2018-003"])
    assert campagne.notify_and_send(datetime(2017, 12, 12, 9, 0, tzinfo=UTC)) == (0, 0)
    assert (campagne.decisions(), campagne.decision_mails(), len(campagne.sink.messages())) == (3, 3, attestations + 3)


@pytest.mark.database_matters("one decision per dossier and comité")
def test_another_decision_for_a_dossier_already_decided_at_this_comite_refuses_the_file(campagne, trois):
    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, decide_all()))
    before = campagne.snapshot()
    changed = campagne.fill(pack.synthese, decide_all(_002=("Ajourné", "Précisez les frais de déplacement.")), "autre.xlsx")

    with pytest.raises(DecisionsRefusees) as refus:
        campagne.record(changed)

    assert refus.value.problemes == [
        "ligne 7, dossier 2018-002 : une autre décision est déjà enregistrée pour le comité du 11/12/2017 (non retenu)"]
    assert campagne.snapshot() == before and campagne.decisions() == 3


def test_more_etp_retained_than_the_call_wants_is_recorded_with_a_warning(campagne):
    porteurs = [porteur(30 + n, referents=2) for n in range(8)]  # 8 × 2 ETP = 16 ETP for 14 wanted
    numeros = campagne.complete(*porteurs)
    campagne.instruct()
    pack = campagne.prepare()

    report = campagne.record(campagne.fill(pack.synthese, {n: ("Retenu", "") for n in numeros.values()}))

    assert report.avertissements == ["attention : 16 ETP retenus pour 14 référents voulus"]
    assert sorted(report.enregistrees) == sorted(numeros.values())
    assert campagne.decisions() == 8 and {r["decision"] for r in campagne.rows().values()} == {"retenu"}


def test_exactly_the_etp_the_call_wants_gives_no_warning(campagne):
    porteurs = [porteur(40 + n, referents=2) for n in range(7)]  # 14 ETP
    numeros = campagne.complete(*porteurs)
    campagne.instruct()
    pack = campagne.prepare()

    report = campagne.record(campagne.fill(pack.synthese, {n: ("Retenu", "") for n in numeros.values()}))

    assert (len(report.enregistrees), report.avertissements) == (7, [])


# --- the ajourné dossier, its answer and the second comité -------------------------------------------


def test_ajourne_dossier_answers_after_the_deadline_is_reinstructed_and_retained_at_a_second_comite(campagne, trois):
    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, decide_all()))
    campagne.notify_and_send()

    answer = campagne.by_post(COURRIEL_SEUL, paris(14, 9), maintenant=paris(14, 10))  # a week after the deadline

    assert answer.hors_delai is False
    assert campagne.rows()["2018-003"]["statut"] == "complet"
    reinstruction = campagne.instruct(paris(18, 10))
    assert (reinstruction.instruits, reinstruction.inchanges) == (["2018-003"], [])
    assert [(i.version, i.avis.value) for i in campagne.instructions("2018-003")] == [(1, "réservé"), (2, "favorable")]

    second = campagne.prepare(comite_le=date(2017, 12, 20), maintenant=paris(18, 11))

    assert second.dossiers == ["2018-003"]  # the decided dossiers are not listed again
    assert [d.numero for d in read_synthese(second.synthese).decisions] == ["2018-003"]
    report = campagne.record(campagne.fill(second.synthese, {"2018-003": ("Retenu", "")}, "second.xlsx"),
                             maintenant=paris(20, 19))
    assert (report.comite_le, report.enregistrees) == (date(2017, 12, 20), ["2018-003"])
    assert campagne.notify_and_send(paris(20, 19)) == (1, 1)
    row = campagne.rows()["2018-003"]
    assert (row["decision"], row["reponse_avant"]) == ("retenu", None)
    with campagne.factory() as s:
        history = list(s.execute(select(DecisionComite.comite_le, DecisionComite.decision)
                                 .join(Dossier, Dossier.id == DecisionComite.dossier_id)
                                 .where(Dossier.numero == "2018-003").order_by(DecisionComite.comite_le)))
    assert [(c, d.value) for c, d in history] == [(date(2017, 12, 11), "ajourné"), (date(2017, 12, 20), "retenu")]
    subjects = [m["Subject"] for m in campagne.decision_mails_to(COURRIEL_SEUL)]
    assert [s.rsplit(" ", 1)[-1] for s in subjects] == ["ajourné", "retenu"]
    assert "le comité a retenu votre dossier" in read_docx_text(campagne.storage.root / "decisions/2018/DEC-2018-003-20171220.docx")


def test_ajourne_dossier_answer_is_in_time_until_the_end_of_its_reponse_avant_day_in_paris(campagne, trois):
    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, decide_all()))
    assert campagne.rows()["2018-003"]["reponse_avant"] == "2017-12-26"

    last_second = campagne.by_post(COURRIEL_SEUL, paris(26, 23, 59, 59))
    too_late = campagne.by_post(COURRIEL_SEUL, paris(27, 0, 0, 0))

    assert (last_second.hors_delai, too_late.hors_delai) == (False, True)


def test_answer_after_reponse_avant_leaves_the_dossier_ajourne_and_is_not_instructed(campagne, trois):
    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, decide_all()))

    late = campagne.by_post(COURRIEL_SEUL, paris(27, 9), maintenant=paris(27, 10))
    report = campagne.instruct(paris(28, 9))

    assert late.hors_delai is True
    row = campagne.rows()["2018-003"]
    assert (row["statut"], row["pieces_manquantes"]) == ("ajourné", ["envoi postal (courrier) non reçu"])
    assert "2018-003" not in report.instruits
    assert [i.version for i in campagne.instructions("2018-003")] == [1]


def test_dossier_decided_for_good_gets_no_decision_at_a_second_comite(campagne, trois):
    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, decide_all(_003=("Non retenu", "Dossier incomplet."))))

    with pytest.raises(SaisieRefusee) as nothing:
        campagne.prepare(comite_le=date(2017, 12, 20), maintenant=paris(18, 11))

    assert "aucun dossier instruit en attente de décision" in str(nothing.value)


# --- the export and LibreOffice -------------------------------------------------------------------------


def test_export_lists_dossiers_pieces_and_mails_and_keeps_a_formula_looking_name_as_text(campagne):
    formule, autre = porteur(50, nom='=HYPERLINK("http://example.org/x","Cliquez ici")'), porteur(51)
    assert campagne.complete(formule, autre) == {formule.nom: "2018-001", autre.nom: "2018-002"}
    campagne.instruct()
    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, {"2018-001": ("Retenu", ""), "2018-002": ("Non retenu", "Hors cible.")}))
    campagne.notify_and_send()
    synthese = openpyxl.load_workbook(pack.synthese)["Synthèse"]
    assert (synthese["A6"].value, synthese["B6"].value, synthese["B6"].data_type) == ("2018-001", formule.nom, "s")

    with campagne.factory() as s:
        path = export_appel(s, 2018, campagne.tmp / "export.xlsx", maintenant=paris(12, 9))

    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Dossiers", "Pièces", "Dépôts non identifiés", "Courriels"]
    dossiers = wb["Dossiers"]
    header = next(r for r in range(1, 6) if dossiers.cell(r, 1).value == "N°")
    titles = [c.value for c in dossiers[header]]
    cell = dossiers.cell(header + 1, 2)
    assert (dossiers.cell(header + 1, 1).value, cell.value, cell.data_type) == ("2018-001", formule.nom, "s")
    rows = {dossiers.cell(r, 1).value: [c.value for c in dossiers[r]] for r in range(header + 1, dossiers.max_row + 1)}
    decision, motif = titles.index("Décision"), titles.index("Motif ou questions")
    assert (rows["2018-001"][decision], rows["2018-002"][decision], rows["2018-002"][motif]) == (
        "retenu", "non retenu", "Hors cible.")
    assert rows["2018-001"][titles.index("Avis")] == "favorable"
    courriels = [c.value for row in wb["Courriels"].iter_rows() for c in row]
    assert "decision:2018-002:2017-12-11" in courriels
    pieces = [r for r in wb["Pièces"].iter_rows(values_only=True) if r[0] == "2018-001"]
    assert sorted(r[1] for r in pieces) == ["courriel", "courriel", "courrier"]  # form and CV by mail, the scan by post


def test_synthesis_opens_in_libreoffice_calc(campagne, trois, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) absent : ouverture de la synthèse par Calc non vérifiée")
    pack = campagne.prepare()
    sortie = tmp_path / "csv"
    try:
        subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profil_lo').as_uri()}", "--headless", "--norestore",
                        "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(sortie),
                        str(pack.synthese)], capture_output=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("LibreOffice (soffice) n'a pas converti la synthèse en 180 s")
    converted = sortie / f"{pack.synthese.stem}.csv"
    if not converted.exists():
        pytest.skip("LibreOffice (soffice) présent mais sans Calc (libreoffice-calc) : ouverture .xlsx impossible")
    rows = list(csv.reader(converted.read_text(encoding="utf-8").splitlines()))
    numbers = [r[0] for r in rows if r and r[0].startswith("2018-")]
    assert numbers == ["2018-001", "2018-002", "2018-003"]
    assert any(FAVORABLE.nom in r for r in rows)


@pytest.mark.database_matters("a re-run or a repeat is refused by unique keys")
def test_preparing_the_same_pack_again_changes_nothing(campagne, trois):
    first = campagne.prepare()
    rempli = campagne.fill(first.synthese, decide_all(), first.synthese.name)  # filled in place, as the flow invites

    again = campagne.prepare()

    assert (again.synthese, again.dossiers) == (first.synthese, first.dossiers)
    assert [d.decision for d in read_synthese(rempli).decisions] == ["Retenu", "Non retenu", "Ajourné"]
    with campagne.factory() as s:
        assert s.scalar(select(func.count()).select_from(Comite)) == 1


def test_a_late_form_does_not_rewrite_the_contact_of_an_ajourne_dossier(campagne, trois):
    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, decide_all()))
    late = porteur(3)
    deliver(campagne.maildir, sender=late.email, when=paris(28, 9), message_id="<tardif@example.org>", sender_name=late.nom,
            attachments=[("dossier.xlsx", form_bytes(campagne.tmp / "forms", late, contact_email="nouveau@example.org"))])
    campagne.intake(paris(28, 10))

    report = campagne.instruct(paris(29, 9))

    assert report.instruits == [] and "2018-003" in report.inchanges  # kept, attested hors délai, not counted
    row = campagne.rows()["2018-003"]
    assert (row["statut"], row["reponse_avant"]) == ("ajourné", "2017-12-26")  # still waiting for its answer
    assert [i.version for i in campagne.instructions("2018-003")] == [1]
    assert "nouveau@example.org" not in campagne.note("2018-003")


# --- an ajourné dossier may answer until its deadline: no comité decides it before ------------------------------


def adjourn_two_then_one_answers(campagne: Campagne) -> None:
    """11 December: 2018-002 and 2018-003 ajournés (answer by 26 December); 2018-003 answers on the 14th and is
    instructed again on the 18th, 2018-002 says nothing."""
    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, decide_all(_002=("Ajourné", QUESTIONS))))
    campagne.by_post(COURRIEL_SEUL, paris(14, 9), maintenant=paris(14, 10))
    campagne.instruct(paris(18, 10))


def test_pack_shows_each_ajourne_dossier_its_answer_deadline_and_whether_the_answer_came(campagne, trois):
    adjourn_two_then_one_answers(campagne)

    second = campagne.prepare(comite_le=date(2017, 12, 20), maintenant=paris(18, 11))

    assert second.dossiers == ["2018-002", "2018-003"]
    assert [fr(line) for line in second.ajournes] == [
        f"2018-002 ({SANS_DEPLACEMENTS.nom}) : réponse attendue au plus tard le 26 décembre 2017 : pas de réponse à ce jour",
        f"2018-003 ({COURRIEL_SEUL.nom}) : réponse attendue au plus tard le 26 décembre 2017 : reçue le 14 décembre 2017"]
    ws = openpyxl.load_workbook(second.synthese)["Synthèse"]
    colonne = [c.value for c in ws[5]].index("Réponse aux questions") + 1
    assert [(ws.cell(r, 1).value, ws.cell(r, colonne).value) for r in (6, 7)] == [
        ("2018-002", "réponse attendue au plus tard le 26 décembre 2017 : pas de réponse à ce jour"),
        ("2018-003", "réponse attendue au plus tard le 26 décembre 2017 : reçue le 14 décembre 2017")]


def test_deciding_an_ajourne_dossier_before_its_deadline_without_its_answer_refuses_the_whole_file(campagne, trois):
    adjourn_two_then_one_answers(campagne)
    second = campagne.prepare(comite_le=date(2017, 12, 20), maintenant=paris(18, 11))
    before = (campagne.snapshot(), campagne.decisions())

    with pytest.raises(DecisionsRefusees) as refus:
        campagne.record(campagne.fill(second.synthese, {
            "2018-002": ("Non retenu", "Pas de réponse aux questions complémentaires dans le délai."),
            "2018-003": ("Retenu", "")}, "second.xlsx"), maintenant=paris(20, 19))

    assert [fr(p) for p in refus.value.problemes] == [
        "ligne 6, dossier 2018-002 : ajourné par le comité du 11 décembre 2017, il a jusqu'au 26 décembre 2017 pour "
        "répondre et n'a pas encore répondu : le comité du 20 décembre 2017 ne peut pas encore le décider "
        "(laissez sa décision vide)"]
    assert (campagne.snapshot(), campagne.decisions()) == before  # not even 2018-003's decision


def test_an_ajourne_dossier_left_undecided_waits_and_a_comite_after_its_deadline_closes_it(campagne, trois):
    adjourn_two_then_one_answers(campagne)
    second = campagne.prepare(comite_le=date(2017, 12, 20), maintenant=paris(18, 11))

    report = campagne.record(campagne.fill(second.synthese, {"2018-003": ("Retenu", "")}, "second.xlsx"),
                             maintenant=paris(20, 19))

    assert (report.enregistrees, report.en_attente) == (["2018-003"], ["2018-002"])
    row = campagne.rows()["2018-002"]
    assert (row["decision"], row["reponse_avant"]) == ("ajourné", "2017-12-26")

    third = campagne.prepare(comite_le=date(2017, 12, 27), maintenant=paris(27, 9))

    assert [fr(line) for line in third.ajournes] == [
        f"2018-002 ({SANS_DEPLACEMENTS.nom}) : réponse attendue au plus tard le 26 décembre 2017 : aucune réponse dans le délai"]
    closed = campagne.record(campagne.fill(third.synthese, {"2018-002": (
        "Non retenu", "Pas de réponse aux questions complémentaires dans le délai.")}, "third.xlsx"), maintenant=paris(27, 19))
    assert (closed.enregistrees, closed.en_attente) == (["2018-002"], [])
    assert campagne.rows()["2018-002"]["decision"] == "non retenu"


def test_preparing_the_pack_again_later_without_a_clock_writes_no_new_pack(campagne, trois):
    first = campagne.prepare(maintenant=PREPARATION)

    again = campagne.prepare(maintenant=PREPARATION + timedelta(hours=3))
    tomorrow = campagne.prepare(maintenant=PREPARATION + timedelta(days=1))

    assert again.synthese == tomorrow.synthese == first.synthese
    assert sorted(p.name for p in (campagne.tmp / "comite").glob("*.xlsx")) == [first.synthese.name]
    with campagne.factory() as s:
        assert s.scalar(select(func.count()).select_from(Comite)) == 1


def test_admitting_an_instructed_dossier_again_keeps_it_instructed_and_in_the_pack(campagne):
    late = porteur(23)
    campagne.by_mail(late, paris(7, 17, 1))
    campagne.intake()
    campagne.by_post(late, paris(8, 9))
    first = admit_late_dossier(campagne.factory, 2018, "2018-001", "Panne du serveur de messagerie du porteur, attestée.",
                               maintenant=paris(8, 15))
    campagne.instruct(paris(8, 16))

    again = admit_late_dossier(campagne.factory, 2018, "2018-001", "Panne du serveur de messagerie du porteur, attestée.",
                               maintenant=paris(8, 17))

    assert (first.nouvelle, again.nouvelle) == (True, False)
    assert again.message == ("le dossier 2018-001 est déjà admis à l'instruction (motif : Panne du serveur de messagerie "
                             "du porteur, attestée.) ; statut : instruit : rien n'a changé")
    assert campagne.rows()["2018-001"]["statut"] == "instruit"
    assert campagne.prepare().dossiers == ["2018-001"]


def test_the_non_retenu_letter_lists_the_blocking_findings_as_a_french_bulleted_list(campagne, trois):
    import docx

    pack = campagne.prepare()
    campagne.record(campagne.fill(pack.synthese, decide_all()))
    campagne.notify_and_send()

    letter = docx.Document(str(campagne.storage.root / "decisions/2018/DEC-2018-002-20171211.docx"))
    paragraphs = [(p.style.name, fr(p.text)) for p in letter.paragraphs if p.text.strip()]
    intro = ("L'instruction du dossier a relevé les points suivants, qui ne permettent pas de le retenir au regard "
             "du cahier des charges :")
    at = [t for _, t in paragraphs].index(intro)
    items = [t for style, t in paragraphs[at + 1:] if style == "List Bullet"]
    assert items[:2] == [
        "frais de déplacement absents du budget : ils sont exigés pour les rencontres avec les entreprises ;",
        "budget non équilibré : dépenses 40 000,00 €, ressources 43 000,00 € (écart de 3 000,00 €)."]
    assert "Frais de déplacement absents du budget." in [t for _, t in paragraphs]  # the comité's own motif
    [message] = campagne.decision_mails_to(SANS_DEPLACEMENTS)
    body = fr(message.get_body(("plain",)).get_content())
    assert (f"{intro}\n  - frais de déplacement absents du budget : ils sont exigés pour les rencontres avec les "
            f"entreprises ;\n  - {items[1]}\n") in body
    retained = docx.Document(str(campagne.storage.root / "decisions/2018/DEC-2018-001-20171211.docx"))
    assert intro not in [fr(p.text) for p in retained.paragraphs]


def test_instruction_and_the_comite_say_in_french_what_they_did_for_each_dossier(campagne, caplog):
    import logging

    campagne.by_mail(FAVORABLE, paris(6, 10))
    campagne.by_mail(SANS_DEPLACEMENTS, paris(6, 11), budget_deplacements=Decimal("0"))
    campagne.intake()
    campagne.by_post(FAVORABLE, paris(6, 15))
    campagne.by_post(SANS_DEPLACEMENTS, paris(6, 15))
    caplog.set_level(logging.INFO, logger="aap")

    campagne.instruct()
    campagne.instruct()
    pack = campagne.prepare()
    with pytest.raises(DecisionsRefusees):
        campagne.record(campagne.fill(pack.synthese, {"2018-001": ("Retenu", "")}, "incomplete.xlsx"))
    campagne.record(campagne.fill(pack.synthese, {"2018-001": ("Retenu", ""),
                                                  "2018-002": ("Ajourné", QUESTIONS)}))
    campagne.notify_and_send()

    said = [(r.name, r.levelname, fr(r.getMessage())) for r in caplog.records if r.name.startswith("aap.")]
    instruction = [line for name, _, line in said if name == "aap.instruction"]
    assert instruction[:2] == ["Dossier 2018-001 instruit : avis favorable, 0 constat bloquant.",
                               "Dossier 2018-002 instruit : avis défavorable, 2 constats bloquants."]
    assert sorted(instruction[2:4]) == ["Note d'instruction du dossier 2018-001 rédigée (version 1).",
                                        "Note d'instruction du dossier 2018-002 rédigée (version 1)."]
    assert instruction[4:] == ["Dossier 2018-001 inchangé depuis son instruction : rien à refaire.",
                               "Dossier 2018-002 inchangé depuis son instruction : rien à refaire."]
    comite = [(level, line) for name, level, line in said if name == "aap.comite"]
    assert comite == [
        ("INFO", "Dossier de séance du comité du 11 décembre 2017 préparé : 2 dossiers (synthese_comite_2017-12-11.xlsx)."),
        ("WARNING", "Décisions du comité refusées, aucune enregistrée : 1 problème."),
        ("WARNING", "Décisions refusées : ligne 7, dossier 2018-002 : décision non renseignée."),
        ("INFO", f"Dossier 2018-001 ({FAVORABLE.nom}) : retenu."),
        ("INFO", f"Dossier 2018-002 ({SANS_DEPLACEMENTS.nom}) : ajourné, réponse attendue avant le 26 décembre 2017."),
        ("INFO", "Lettre de décision DEC-2018-001-20171211 rédigée pour le dossier 2018-001 (retenu)."),
        ("INFO", "Lettre de décision DEC-2018-002-20171211 rédigée pour le dossier 2018-002 (ajourné)."),
    ]
    assert [line for name, _, line in said if name == "aap.outbox" and "lettre de décision" in line] == [
        "Courriel « lettre de décision » (2018-001:2017-12-11) envoyé.",
        "Courriel « lettre de décision » (2018-002:2017-12-11) envoyé."]
