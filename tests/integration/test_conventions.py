"""Conventions and avenants on a real database (SQLite and PostgreSQL): established for the dossiers the comité
retained (through the real intake, instruction and decisions), signed, renewed twice and never a third time — not
even by two processes racing for it — modified without counting, listed, exported, rendered and mailed; and the
next call's announcement to the porteurs whose convention can no longer be renewed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from actions.comite import prepare_comite, record_decisions
from actions.convention_documents import render_pending_conventions
from actions.conventions import (
    AvenantDemande,
    Modification,
    convention_history,
    establish_conventions,
    export_conventions,
    list_conventions,
    modify,
    prolong,
    sign,
)
from actions.depots import SaisieRefusee, register_postal
from actions.instruction import instruct_appel
from actions.outbox import send_pending
from actions.publication import publish_appel
from adapters.smtp import MailSettings
from adapters.smtp_sink import SmtpSink
from adapters.storage import Storage
from config.appel_config import AppelConfig
from forms.synthese import fill_decisions
from models import Courriel, Dossier
from models.convention import Avenant, AvenantNature, Convention, ConventionNonSignee, ConventionStatut, RenouvellementsEpuises
from models.porteur import Porteur
from templates.render import read_docx_text
from tests.conftest import run_intake
from tests.samples import cv_pdf, deliver_complete, paris, porteur

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.shared_per_database("db_url")  # its snapshots built once per database, on one worker
UTC = timezone.utc
ETABLIE = datetime(2017, 12, 20, 23, 30, tzinfo=UTC)  # 21 December, 0 h 30 in Dijon
SIGNEE = date(2017, 12, 28)
# the comité that validates each renewal, by the year renewed
VALIDATIONS = {2019: (date(2018, 11, 15), "comité de pilotage du 15 novembre 2018"),
               2020: (date(2019, 11, 14), "comité de pilotage du 14 novembre 2019"),
               2021: (date(2020, 11, 12), "comité de pilotage du 12 novembre 2020")}
UN_ETP = replace(porteur(1), referents=(("Dupont", "Anne", "1", "44499.99"),), deplacements="1500.02")
BINOME = replace(porteur(2), referents=(("Martin", "Lucie", "0.5", "22250.00"), ("Bernard", "Paul", "0.8", "35600.00")))
NON_RETENU = porteur(3)
KEYS = {"numero", "porteur", "siret", "debut", "fin", "renouvellements", "renouvellements_max", "statut", "prochaine_action"}
DERNIER = ("Ce renouvellement est le dernier possible : à son terme, la poursuite de l'action nécessitera "
           "une réponse à un nouvel appel à projets.")


def fr(value: str) -> str:
    """Babel's U+202F / U+00A0 separators as plain spaces, for readable assertions."""
    return value.replace("\u202f", " ").replace("\xa0", " ")


def instant(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 18, 0, tzinfo=UTC)


@dataclass
class Bureau:
    """The SA's desk: dossiers come through the real intake and comité, then conventions are handled."""

    factory: object
    storage: Storage
    mail: MailSettings
    sink: SmtpSink
    tmp: Path

    def retain(self, *retenus, non_retenus=()) -> dict[str, str]:
        """Mail + post for each porteur, instruction, comité: the first retained, the others not. {nom: dossier}."""
        porteurs = [*retenus, *non_retenus]
        for i, p in enumerate(porteurs):
            deliver_complete(self.tmp / "boite", self.tmp / "forms", p, paris(6, 10, i))
        run_intake(self.factory, self.storage, self.tmp / "boite", self.mail)
        for p in porteurs:
            scan = self.tmp / f"scan-{p.siret}.pdf"
            scan.write_bytes(cv_pdf(f"Courrier de {p.nom}"))
            register_postal(self.factory, self.storage, 2018, siret=p.siret, recu_le=paris(6, 15), files=[scan], nom=None,
                            maintenant=paris(6, 15))
        instruct_appel(self.factory, self.storage, 2018, maintenant=datetime(2017, 12, 8, 13, tzinfo=UTC), pdf=False)
        pack = prepare_comite(self.factory, self.storage, 2018, comite_le=None, sortie=self.tmp / "comite",
                              maintenant=datetime(2017, 12, 9, 9, tzinfo=UTC))
        with self.factory() as s:
            numeros = {p.nom: s.scalar(select(Dossier.numero).join(Porteur).where(Porteur.siret == p.siret)) for p in porteurs}
        choix = {numeros[p.nom]: ("Retenu", "") for p in retenus}
        choix.update({numeros[p.nom]: ("Non retenu", "Hors cible.") for p in non_retenus})
        record_decisions(self.factory, 2018, fill_decisions(pack.synthese, choix, self.tmp / "decisions.xlsx"),
                         date_comite=None, maintenant=datetime(2017, 12, 11, 17, tzinfo=UTC))
        return numeros

    def establish(self, dossier: str | None = None) -> list[str]:
        return establish_conventions(self.factory, 2018, maintenant=ETABLIE, dossier_numero=dossier)

    def sign(self, numero: str, le: date = SIGNEE) -> str:
        return sign(self.factory, numero, le=le)

    def prolong(self, numero: str, annee: int) -> str | None:
        """The new avenant's number (None when the request changed nothing)."""
        return self.ask_prolong(numero, annee).numero

    def ask_prolong(self, numero: str, annee: int, valide_le: date | None = None) -> AvenantDemande:
        valide, instance = VALIDATIONS[annee]
        valide_le = valide_le or valide
        return prolong(self.factory, numero, valide_le=valide_le, instance=instance, maintenant=instant(valide_le))

    def modify(self, numero: str, changes: Modification, valide_le: date) -> str | None:
        return self.ask_modify(numero, changes, valide_le).numero

    def ask_modify(self, numero: str, changes: Modification, valide_le: date) -> AvenantDemande:
        return modify(self.factory, numero, changes, valide_le=valide_le, instance="bureau du PLIE",
                      maintenant=instant(valide_le))

    def convention(self, numero: str) -> Convention:
        with self.factory() as s:
            c = s.scalar(select(Convention).where(Convention.numero == numero))
            s.expunge(c)
            return c

    def avenants(self, numero: str) -> list[tuple]:
        with self.factory() as s:
            return list(s.execute(
                select(Avenant.numero, Avenant.nature, Avenant.renouvellement, Avenant.periode_debut, Avenant.periode_fin)
                .join(Convention).where(Convention.numero == numero).order_by(Avenant.ordre)))

    def row(self, numero: str, jour: date = date(2018, 6, 1)) -> dict:
        with self.factory() as s:
            [row] = [r for r in list_conventions(s, 2018, aujourd_hui=jour) if r["numero"] == numero]
            return row

    def snapshot(self) -> tuple:
        """Everything a refused operation must leave as it was."""
        with self.factory() as s:
            conventions = list(s.execute(select(
                Convention.numero, Convention.statut, Convention.fin, Convention.renouvellements, Convention.referents,
                Convention.etp, Convention.budget_salaires, Convention.budget_deplacements, Convention.budget_autres,
                Convention.ressources_fse, Convention.ressources_plie, Convention.ressources_autres,
            ).order_by(Convention.numero)))
            avenants = list(s.execute(select(Avenant.numero, Avenant.renouvellement, Avenant.etat).order_by(Avenant.numero)))
            courriels = s.scalar(select(func.count()).select_from(Courriel))
        return conventions, avenants, courriels


@pytest.fixture
def bureau(factory, storage, appel, sink, mail, tmp_path) -> Bureau:
    return Bureau(factory, storage, mail, sink, tmp_path)


@pytest.fixture
def deux(bureau: Bureau, world, snapshots) -> dict[str, str]:
    """Two retained dossiers (one ETP at 44 499,99 €; a binôme of 0,5 + 0,8 ETP) and one not retained.

    Built once per module and database, then copied into each test (tests/snapshots.py)."""
    return snapshots.restore("deux", lambda w: build_deux(bureau_in(w)), world)


@pytest.fixture
def signee(bureau: Bureau, world, snapshots) -> str:
    """CONV-2018-001, established and signed (and ``deux`` before it): built once, copied like ``deux``."""
    return snapshots.restore("signee", lambda w: build_signee(bureau_in(w)), world)


def bureau_in(w) -> Bureau:
    return Bureau(w.factory, w.storage, w.mail, w.sink, w.tmp)


def build_deux(bureau: Bureau) -> dict[str, str]:
    numeros = bureau.retain(UN_ETP, BINOME, non_retenus=[NON_RETENU])
    assert [numeros[p.nom] for p in (UN_ETP, BINOME, NON_RETENU)] == ["2018-001", "2018-002", "2018-003"]
    return numeros


def build_signee(bureau: Bureau) -> str:
    build_deux(bureau)
    bureau.establish()
    bureau.sign("CONV-2018-001")
    return "CONV-2018-001"


# --- establishing -----------------------------------------------------------------------------------


@pytest.mark.database_matters("Numeric amounts and numbering")
def test_each_retained_dossier_gets_a_numbered_one_year_convention_with_its_amounts_to_the_cent(bureau, deux):
    assert bureau.establish() == ["CONV-2018-001", "CONV-2018-002"]

    un, binome = bureau.convention("CONV-2018-001"), bureau.convention("CONV-2018-002")
    for c in (un, binome):
        assert (c.statut, c.debut, c.fin, c.renouvellements, c.renouvellements_max, c.signee_le) == (
            ConventionStatut.A_SIGNER, date(2018, 1, 1), date(2018, 12, 31), 0, 2, None)
    assert (un.dossier_id, binome.dossier_id) != (None, None)
    amounts = ("etp", "budget_salaires", "budget_deplacements", "budget_autres", "ressources_fse", "ressources_plie",
               "ressources_autres")
    assert {k: getattr(un, k) for k in amounts} == {
        "etp": Decimal("1.00"), "budget_salaires": Decimal("44499.99"), "budget_deplacements": Decimal("1500.02"),
        "budget_autres": Decimal("0.00"), "ressources_fse": Decimal("23000.00"), "ressources_plie": Decimal("23000.01"),
        "ressources_autres": Decimal("0.00")}
    assert {k: getattr(binome, k) for k in amounts} == {
        "etp": Decimal("1.30"), "budget_salaires": Decimal("57850.00"), "budget_deplacements": Decimal("3000.00"),
        "budget_autres": Decimal("0.00"), "ressources_fse": Decimal("30425.00"), "ressources_plie": Decimal("30425.00"),
        "ressources_autres": Decimal("0.00")}
    assert all(type(getattr(c, k)) is Decimal for c in (un, binome) for k in amounts)
    assert str(un.budget_salaires) == "44499.99"  # to the cent, not 44499.9899999…
    assert [(r["nom_complet"], Decimal(r["etp"]), r["salaire"]) for r in binome.referents] == [
        ("Lucie Martin", Decimal("0.5"), "22250.00"), ("Paul Bernard", Decimal("0.8"), "35600.00")]
    assert un.etat_initial["budget_salaires"] == "44499.99"
    row = bureau.row("CONV-2018-001")
    assert (row["porteur"], row["siret"], row["dossier"], row["montant_total"]) == (
        UN_ETP.nom, UN_ETP.siret, "2018-001", "46000.01")


def test_convention_for_a_dossier_not_retained_is_refused_with_its_reason(bureau, deux):
    before = bureau.snapshot()

    with pytest.raises(SaisieRefusee) as refus:
        bureau.establish("2018-003")
    with pytest.raises(SaisieRefusee) as inconnu:
        bureau.establish("2018-099")

    assert str(refus.value) == ("le dossier 2018-003 n'a pas été retenu par le comité (statut : non retenu) : "
                                "pas de convention possible")
    assert str(inconnu.value) == "dossier 2018-099 inconnu pour l'appel 2018"
    assert bureau.snapshot() == before and before[0] == []


@pytest.mark.database_matters("a re-run or a repeat is refused by unique keys")
def test_establishing_again_creates_nothing_new(bureau, deux):
    assert bureau.establish("2018-002") == ["CONV-2018-001"]  # one named dossier first, then the others
    assert bureau.establish() == ["CONV-2018-002"]
    before = bureau.snapshot()

    assert bureau.establish() == []
    assert bureau.establish("2018-001") == []
    assert bureau.snapshot() == before and len(before[0]) == 2
    assert (bureau.row("CONV-2018-001")["dossier"], bureau.row("CONV-2018-002")["dossier"]) == ("2018-002", "2018-001")


# --- signing and renewing ----------------------------------------------------------------------------


def test_only_a_signed_convention_can_be_renewed_and_it_is_signed_once(bureau, deux):
    bureau.establish()
    before = bureau.snapshot()
    with pytest.raises(ConventionNonSignee) as non_signee:
        bureau.prolong("CONV-2018-001", 2019)
    assert str(non_signee.value) == "la convention CONV-2018-001 n'est pas signée : elle ne peut pas être renouvelée"
    assert bureau.snapshot() == before

    assert bureau.sign("CONV-2018-001") == "Convention CONV-2018-001 signée le 28 décembre 2017"
    assert bureau.sign("CONV-2018-001") == "Convention CONV-2018-001 déjà signée le 28 décembre 2017"
    with pytest.raises(SaisieRefusee) as autre_date:
        bureau.sign("CONV-2018-001", date(2018, 1, 3))
    with pytest.raises(SaisieRefusee) as inconnue:
        bureau.sign("CONV-2018-009")

    assert str(autre_date.value) == "la convention CONV-2018-001 est déjà signée depuis le 28 décembre 2017"
    assert str(inconnue.value) == "aucune convention ni aucun avenant n° CONV-2018-009"
    c = bureau.convention("CONV-2018-001")
    assert (c.statut, c.signee_le) == (ConventionStatut.EN_COURS, SIGNEE)
    assert bureau.prolong("CONV-2018-001", 2019) == "CONV-2018-001-A1"


def test_two_renewals_cover_the_next_two_calendar_years_and_the_third_is_refused_writing_nothing(bureau, signee):
    assert bureau.prolong(signee, 2019) == "CONV-2018-001-A1"
    assert (bureau.convention(signee).renouvellements, bureau.convention(signee).fin) == (1, date(2019, 12, 31))
    assert bureau.prolong(signee, 2020) == "CONV-2018-001-A2"
    before = bureau.snapshot()

    with pytest.raises(RenouvellementsEpuises) as refus:
        bureau.prolong(signee, 2021)

    assert str(refus.value) == (
        "la convention CONV-2018-001 a déjà été renouvelée 2 fois (avenant CONV-2018-001-A1 du 15 novembre 2018 "
        "et avenant CONV-2018-001-A2 du 14 novembre 2019) : elle ne peut plus l'être ; "
        "la structure doit répondre à un nouvel appel à projets")
    assert bureau.snapshot() == before
    c = bureau.convention(signee)
    assert (c.debut, c.fin, c.renouvellements) == (date(2018, 1, 1), date(2020, 12, 31), 2)
    assert bureau.avenants(signee) == [
        ("CONV-2018-001-A1", AvenantNature.PROLONGATION, 1, date(2019, 1, 1), date(2019, 12, 31)),
        ("CONV-2018-001-A2", AvenantNature.PROLONGATION, 2, date(2020, 1, 1), date(2020, 12, 31))]
    assert bureau.row(signee, date(2020, 6, 1))["periode_en_cours"] == {"debut": "2018-01-01", "fin": "2018-12-31"}
    for avenant, le in (("CONV-2018-001-A1", date(2018, 11, 29)), ("CONV-2018-001-A2", date(2019, 11, 28))):
        bureau.sign(avenant, le)  # a renewal counts once signed
    assert bureau.row(signee, date(2020, 6, 1))["periode_en_cours"] == {"debut": "2020-01-01", "fin": "2020-12-31"}
    with bureau.factory() as s:
        assert s.scalar(select(func.count()).select_from(Avenant)) == 2
        assert s.scalar(select(Avenant.etat).where(Avenant.numero == "CONV-2018-001-A2"))["budget_salaires"] == "44499.99"


def test_modifications_before_and_after_renewals_do_not_count_and_keep_the_period(bureau, signee):
    plus_autres = Modification(montants={"budget_autres": Decimal("250.50"), "ressources_autres": Decimal("250.50")})

    assert bureau.modify(signee, plus_autres, date(2018, 3, 1)) == "CONV-2018-001-A1"
    assert (bureau.convention(signee).renouvellements, bureau.row(signee)["prochaine_action"]) == (
        0, "avenant CONV-2018-001-A1 à signer")
    assert bureau.prolong(signee, 2019) == "CONV-2018-001-A2"
    assert bureau.prolong(signee, 2020) == "CONV-2018-001-A3"
    remplacement = Modification(remplacements={"Anne Dupont": "Inès Girard"})
    assert bureau.modify(signee, remplacement, date(2020, 5, 4)) == "CONV-2018-001-A4"

    assert bureau.avenants(signee) == [
        ("CONV-2018-001-A1", AvenantNature.MODIFICATION, None, date(2018, 1, 1), date(2018, 12, 31)),
        ("CONV-2018-001-A2", AvenantNature.PROLONGATION, 1, date(2019, 1, 1), date(2019, 12, 31)),
        ("CONV-2018-001-A3", AvenantNature.PROLONGATION, 2, date(2020, 1, 1), date(2020, 12, 31)),
        ("CONV-2018-001-A4", AvenantNature.MODIFICATION, None, date(2020, 1, 1), date(2020, 12, 31))]
    c = bureau.convention(signee)
    assert (c.renouvellements, c.fin, c.budget_autres, c.ressources_autres) == (
        2, date(2020, 12, 31), Decimal("250.50"), Decimal("250.50"))
    assert [r["nom_complet"] for r in c.referents] == ["Inès Girard"]
    assert c.etat_initial["budget_autres"] == "0.00"  # the convention as signed is kept
    with pytest.raises(RenouvellementsEpuises) as refus:  # the two earlier renewals are A2 and A3, not A1 or A4
        bureau.prolong(signee, 2021)
    assert "(avenant CONV-2018-001-A2 du 15 novembre 2018 et avenant CONV-2018-001-A3 du 14 novembre 2019)" in str(refus.value)
    history = convention_history_of(bureau, signee)
    assert [fr(x) for x in history["CONV-2018-001-A1"]] == [
        "Autres dépenses : 0,00 € → 250,50 €", "Autres ressources : 0,00 € → 250,50 €"]
    assert history["CONV-2018-001-A4"] == ["Référent remplacé : Anne Dupont par Inès Girard"]


def convention_history_of(bureau: Bureau, numero: str) -> dict[str, list[str]]:
    with bureau.factory() as s:
        return {h["numero"]: h["changements"]
                for h in convention_history(s, numero, aujourd_hui=date(2018, 6, 1))["historique"]}


def test_modification_within_the_rules_changes_the_referents_and_the_budget(bureau, deux):
    bureau.establish()
    changes = Modification(etp={"Lucie Martin": Decimal("0.6")}, salaires={"lucie martin": Decimal("26700.00")},
                           montants={"budget_salaires": Decimal("62300.00"), "ressources_plie": Decimal("34875.00")})

    assert bureau.modify("CONV-2018-002", changes, date(2018, 4, 2)) == "CONV-2018-002-A1"

    c = bureau.convention("CONV-2018-002")
    assert (c.etp, c.budget_salaires, c.ressources_plie, c.renouvellements) == (
        Decimal("1.40"), Decimal("62300.00"), Decimal("34875.00"), 0)
    assert [(r["nom_complet"], Decimal(r["etp"]), r["salaire"]) for r in c.referents] == [
        ("Lucie Martin", Decimal("0.6"), "26700.00"), ("Paul Bernard", Decimal("0.8"), "35600.00")]
    assert [fr(x) for x in convention_history_of(bureau, "CONV-2018-002")["CONV-2018-002-A1"]] == [
        "ETP de Lucie Martin : 0,5 → 0,6", "Salaire chargé de Lucie Martin : 22 250,00 € → 26 700,00 €",
        "Salaires chargés : 57 850,00 € → 62 300,00 €", "PLIE : 30 425,00 € → 34 875,00 €"]


REFUS_MODIFICATION = [
    (Modification(etp={"Lucie Martin": Decimal("1.2")}), "ETP de Lucie Martin : 1,2 hors de l'intervalle ]0 ; 1]"),
    (Modification(etp={"Paul Bernard": Decimal("0")}), "ETP de Paul Bernard : 0 hors de l'intervalle ]0 ; 1]"),
    (Modification(etp={"Lucie Martin": Decimal("0.4")}),
     "salaire chargé de Lucie Martin (22 250,00 €) supérieur au plafond de 17 800,00 € pour 0,4 ETP"),
    (Modification(salaires={"Paul Bernard": Decimal("35600.01")}),
     "salaire chargé de Paul Bernard (35 600,01 €) supérieur au plafond de 35 600,00 € pour 0,8 ETP"),
    (Modification(montants={"budget_autres": Decimal("0.01")}),
     "budget non équilibré après modification : dépenses 60 850,01 €, ressources 60 850,00 €"),
    (Modification(remplacements={"Jeanne Inconnue": "Lina Haddad"}),
     "référent « Jeanne Inconnue » absent de la convention CONV-2018-002 (référents : Lucie Martin, Paul Bernard)"),
    (Modification(montants={"budget_total": Decimal("1")}), "montant inconnu : budget_total"),
    (Modification(), "aucune modification demandée"),
]


def test_modification_breaking_a_rule_is_refused_with_its_reason_and_writes_nothing(bureau, deux):
    bureau.establish()
    before = bureau.snapshot()

    for changes, raison in REFUS_MODIFICATION:
        with pytest.raises(SaisieRefusee) as refus:
            bureau.modify("CONV-2018-002", changes, date(2018, 4, 2))
        assert fr(str(refus.value)) == raison
        assert bureau.snapshot() == before, raison


# --- the database holds the limit by itself -----------------------------------------------------------


@pytest.mark.database_matters("a CHECK constraint")
def test_database_refuses_a_renewal_count_outside_the_limit_written_directly(bureau, signee):
    bureau.prolong(signee, 2019)
    bureau.prolong(signee, 2020)

    for valeur in (3, -1):
        with pytest.raises(IntegrityError), bureau.factory() as s, s.begin():
            s.execute(text("UPDATE convention SET renouvellements = :n WHERE numero = :numero"),
                      {"n": valeur, "numero": signee})
        with pytest.raises(IntegrityError), bureau.factory() as s, s.begin():  # nor through the ORM, elsewhere
            s.execute(update(Convention).where(Convention.numero == "CONV-2018-002").values(renouvellements=valeur))

    assert (bureau.convention(signee).renouvellements, bureau.convention("CONV-2018-002").renouvellements) == (2, 0)
    with bureau.factory() as s, s.begin():  # within the limit, the same statement passes: the check is the limit
        s.execute(text("UPDATE convention SET renouvellements = 2 WHERE numero = 'CONV-2018-002'"))


@pytest.mark.database_matters("a unique constraint")
def test_database_refuses_a_second_avenant_for_the_same_renewal_rank(bureau, signee):
    bureau.prolong(signee, 2019)
    with bureau.factory() as s:
        first = s.scalar(select(Avenant).where(Avenant.numero == "CONV-2018-001-A1"))
        copy = {k: getattr(first, k) for k in ("convention_id", "nature", "renouvellement", "valide_le", "instance",
                                               "periode_debut", "periode_fin", "changements", "etat", "etabli_le")}

    with pytest.raises(IntegrityError), bureau.factory() as s, s.begin():
        s.add(Avenant(**copy, ordre=2, numero="CONV-2018-001-A2"))

    assert [a[0] for a in bureau.avenants(signee)] == ["CONV-2018-001-A1"]
    with bureau.factory() as s, s.begin():  # two modifications (no rank) are fine side by side
        s.add(Avenant(**{**copy, "nature": AvenantNature.MODIFICATION, "renouvellement": None}, ordre=2,
                      numero="CONV-2018-001-A2"))
        s.add(Avenant(**{**copy, "nature": AvenantNature.MODIFICATION, "renouvellement": None}, ordre=3,
                      numero="CONV-2018-001-A3"))
    assert [a[2] for a in bureau.avenants(signee)] == [1, None, None]


# --- what the SA reads -------------------------------------------------------------------------------------


def test_list_gives_the_status_by_the_calendar_and_the_next_action_in_french_at_each_stage(bureau, deux):
    def actions(jour: date) -> dict[str, tuple]:
        with bureau.factory() as s:
            rows = list_conventions(s, 2018, aujourd_hui=jour)
        assert all(KEYS <= set(r) for r in rows)
        json.dumps(rows)  # plain JSON values only
        return {r["numero"]: (r["statut"], r["renouvellements"], r["renouvellements_max"], r["fin"], r["prochaine_action"])
                for r in rows}

    bureau.establish()
    assert actions(date(2017, 12, 21)) == {"CONV-2018-001": ("à signer", 0, 2, "2018-12-31", "à signer"),
                                           "CONV-2018-002": ("à signer", 0, 2, "2018-12-31", "à signer")}
    bureau.sign("CONV-2018-001")
    assert actions(date(2018, 6, 1))["CONV-2018-001"] == ("en cours", 0, 2, "2018-12-31", "renouvelable")
    bureau.prolong("CONV-2018-001", 2019)
    assert actions(date(2018, 11, 20))["CONV-2018-001"] == (
        "en cours", 1, 2, "2018-12-31", "avenant CONV-2018-001-A1 à signer")  # the renewal counts once signed
    bureau.sign("CONV-2018-001-A1", date(2018, 11, 29))
    assert actions(date(2019, 6, 1))["CONV-2018-001"] == (
        "prolongée par avenant", 1, 2, "2019-12-31", "dernier renouvellement possible")
    bureau.prolong("CONV-2018-001", 2020)
    bureau.sign("CONV-2018-001-A2", date(2019, 11, 28))
    assert actions(date(2020, 6, 1)) == {
        "CONV-2018-001": ("prolongée par avenant", 2, 2, "2020-12-31", "nouvel appel requis"),
        "CONV-2018-002": ("à signer", 0, 2, "2018-12-31", "à signer")}
    assert actions(date(2026, 12, 1))["CONV-2018-001"] == (  # nothing from 2018 is still « en cours » in 2026
        "échue, bilan final non reçu", 2, 2, "2020-12-31", "bilan final à obtenir")
    row = bureau.row("CONV-2018-001", date(2020, 6, 1))
    assert (row["porteur"], row["siret"], row["debut"], row["signee_le"], row["avenants"]) == (
        UN_ETP.nom, UN_ETP.siret, "2018-01-01", "2017-12-28", ["CONV-2018-001-A1", "CONV-2018-001-A2"])
    with bureau.factory() as s:
        assert list_conventions(s, 2017, aujourd_hui=date(2018, 6, 1)) == []
        assert len(list_conventions(s, aujourd_hui=date(2018, 6, 1))) == 2


def test_an_unsigned_modification_avenant_is_shown_to_sign_and_counts_from_its_signature(bureau, deux):
    bureau.establish()
    bureau.sign("CONV-2018-002")
    changes = Modification(etp={"Lucie Martin": Decimal("0.6")}, salaires={"lucie martin": Decimal("26700.00")},
                           montants={"budget_salaires": Decimal("62300.00"), "ressources_plie": Decimal("34875.00")})
    assert bureau.modify("CONV-2018-002", changes, date(2018, 4, 2)) == "CONV-2018-002-A1"

    avant = bureau.row("CONV-2018-002", date(2018, 5, 1))
    assert (avant["etp"], avant["montant_total"], avant["avenants"], avant["prochaine_action"]) == (
        "1.30", "60850.00", ["CONV-2018-002-A1 (à signer)"], "avenant CONV-2018-002-A1 à signer")
    with bureau.factory() as s:
        path = export_conventions(s, bureau.tmp / "avant.xlsx", 2018, aujourd_hui=date(2018, 5, 1))
    wb = openpyxl.load_workbook(path, read_only=True)
    [binome] = [r for r in wb["Conventions"].iter_rows(min_row=3, values_only=True) if r[0] == "CONV-2018-002"]
    [avenant] = list(wb["Avenants"].iter_rows(min_row=3, values_only=True))
    assert (Decimal(str(binome[11])), Decimal(str(binome[12]))) == (Decimal("1.3"), Decimal("60850"))
    assert (avenant[0], avenant[10]) == ("CONV-2018-002-A1", "à signer")
    wb.close()

    bureau.sign("CONV-2018-002-A1", date(2018, 5, 15))
    assert bureau.row("CONV-2018-002", date(2018, 5, 14))["etp"] == "1.30"
    apres = bureau.row("CONV-2018-002", date(2018, 5, 15))
    assert (apres["etp"], apres["montant_total"], apres["avenants"], apres["prochaine_action"]) == (
        "1.40", "65300.00", ["CONV-2018-002-A1"], "renouvelable")


def test_history_lists_the_convention_then_its_avenants_in_order(bureau, signee):
    bureau.prolong(signee, 2019)
    bureau.modify(signee, Modification(remplacements={"Anne Dupont": "Inès Girard"}), date(2019, 3, 4))
    bureau.prolong(signee, 2020)
    bureau.sign("CONV-2018-001-A1", date(2018, 11, 29))

    with bureau.factory() as s:
        history = convention_history(s, signee, aujourd_hui=date(2019, 12, 1))
        with pytest.raises(SaisieRefusee, match="aucune convention n° CONV-2018-077"):
            convention_history(s, "CONV-2018-077", aujourd_hui=date(2019, 12, 1))

    assert [(h["numero"], h["nature"], h["date"], h["signe_le"]) for h in history["historique"]] == [
        ("CONV-2018-001", "convention", "2017-12-21", "2017-12-28"),  # the Paris day
        ("CONV-2018-001-A1", "prolongation", "2018-11-15", "2018-11-29"),
        ("CONV-2018-001-A2", "modification", "2019-03-04", None),
        ("CONV-2018-001-A3", "prolongation", "2019-11-14", None)]
    assert history["historique"][0]["changements"] == ["Convention initiale du 1er janvier 2018 au 31 décembre 2018"]
    assert history["historique"][1]["instance"] == "comité de pilotage du 15 novembre 2018"
    assert (history["renouvellements"], history["prochaine_action"]) == (2, "avenant CONV-2018-001-A2 à signer")


def test_export_reads_back_with_each_convention_and_avenant(bureau, signee):
    bureau.prolong(signee, 2019)
    bureau.sign("CONV-2018-001-A1", date(2018, 11, 29))
    bureau.prolong(signee, 2020)
    bureau.sign("CONV-2018-001-A2", date(2019, 11, 28))

    with bureau.factory() as s:
        path = export_conventions(s, bureau.tmp / "suivi.xlsx", 2018, aujourd_hui=date(2020, 6, 1))

    wb = openpyxl.load_workbook(path, read_only=True)
    conventions = [r for r in wb["Conventions"].iter_rows(min_row=2, values_only=True)]
    avenants = [r for r in wb["Avenants"].iter_rows(min_row=2, values_only=True)]
    assert conventions[0][:14] == ("Convention", "Structure", "SIRET", "Dossier", "Début", "Fin", "Renouvellements",
                                   "Maximum", "Statut", "Signée le", "Prochaine action", "ETP", "Montant total", "Avenants")
    un, binome = conventions[1:]
    assert un[:11] == ("CONV-2018-001", UN_ETP.nom, UN_ETP.siret, "2018-001", datetime(2018, 1, 1), datetime(2020, 12, 31),
                       2, 2, "prolongée par avenant", datetime(2017, 12, 28), "nouvel appel requis")
    assert Decimal(str(un[12])) == Decimal("46000.01") and un[13] == "CONV-2018-001-A1\nCONV-2018-001-A2"
    assert (binome[0], binome[8], binome[10], Decimal(str(binome[11])), Decimal(str(binome[12]))) == (
        "CONV-2018-002", "à signer", "à signer", Decimal("1.3"), Decimal("60850"))
    assert [(a[0], a[2], a[3], a[6], a[7]) for a in avenants[1:]] == [
        ("CONV-2018-001-A1", "prolongation", 1, datetime(2019, 1, 1), datetime(2019, 12, 31)),
        ("CONV-2018-001-A2", "prolongation", 2, datetime(2020, 1, 1), datetime(2020, 12, 31))]
    wb.close()


# --- documents and their mails ----------------------------------------------------------------------------


def test_documents_read_back_and_each_is_mailed_once_for_signature(bureau, signee):
    bureau.prolong(signee, 2019)
    bureau.prolong(signee, 2020)
    before = len(bureau.sink.messages())

    assert render_pending_conventions(bureau.factory, bureau.storage, pdf=False) == 4
    report = send_pending(bureau.factory, bureau.mail, bureau.storage.root)

    folder = bureau.storage.root / "conventions"
    convention = fr(read_docx_text(folder / "CONV-2018-001.docx"))
    assert "Convention de partenariat n° CONV-2018-001" in convention
    assert "conclue pour une durée d'un an, du 1er janvier 2018 au 31 décembre 2018" in convention
    assert "dans la limite de 2 renouvellements" in convention
    assert "Fait à Dijon, le 21 décembre 2017, en deux exemplaires originaux." in convention
    lines = convention.splitlines()
    assert lines[lines.index("Anne Dupont") + 1: lines.index("Anne Dupont") + 3] == ["1", "44 499,99 €"]
    for montant in ("1 500,02 €", "23 000,00 €", "23 000,01 €", "46 000,01 €"):
        assert montant in lines
    binome = fr(read_docx_text(folder / "CONV-2018-002.docx"))
    assert "Lucie Martin" in binome and "Paul Bernard" in binome and "pour 1,3 ETP" in binome
    premier = fr(read_docx_text(folder / "CONV-2018-001-A1.docx"))
    second = fr(read_docx_text(folder / "CONV-2018-001-A2.docx"))
    assert "Prolongation — renouvellement n° 1 sur 2" in premier and DERNIER not in premier
    assert "renouvelée pour la période du 1er janvier 2019 au 31 décembre 2019" in premier
    assert "Prolongation — renouvellement n° 2 sur 2" in second and DERNIER in second
    assert "renouvelée pour la période du 1er janvier 2020 au 31 décembre 2020" in second
    assert "44 499,99 €" in second.splitlines()
    with bureau.factory() as s:
        assert s.scalar(select(Convention.chemin).where(Convention.numero == signee)) == "conventions/CONV-2018-001.docx"
        assert set(s.scalars(select(Avenant.chemin))) == {"conventions/CONV-2018-001-A1.docx",
                                                          "conventions/CONV-2018-001-A2.docx"}

    messages = bureau.sink.messages()[before:]
    assert report.envoyes == 4 and len(messages) == 4
    attached = sorted((m["To"].addresses[0].addr_spec, a.get_filename()) for m in messages for a in m.iter_attachments())
    assert attached == [(UN_ETP.email, "CONV-2018-001-A1.docx"), (UN_ETP.email, "CONV-2018-001-A2.docx"),
                        (UN_ETP.email, "CONV-2018-001.docx"), (BINOME.email, "CONV-2018-002.docx")]
    [dernier] = [m for m in messages if "Avenant n° 2" in m["Subject"]]
    assert DERNIER in fr(dernier.get_body(("plain",)).get_content())

    assert render_pending_conventions(bureau.factory, bureau.storage, pdf=False) == 0
    assert send_pending(bureau.factory, bureau.mail, bureau.storage.root).envoyes == 0
    assert len(bureau.sink.messages()) == before + 4


# --- the next call's announcement ----------------------------------------------------------------------------


def call_2021(cfg: AppelConfig) -> AppelConfig:
    data = cfg.model_dump(mode="json")
    data["appel"].update(annee=2021, titre="Appel à projets PLIE 2021 — portage des référents de parcours")
    data["calendrier"].update(publication="2020-11-19", date_limite="2020-12-10T17:00:00", comite="2020-12-14",
                              debut_convention="2021-01-01")
    return AppelConfig.model_validate(data)


def test_november_call_tells_each_porteur_whose_convention_cannot_be_renewed_to_answer_it(bureau, cfg):
    sans_adresse = porteur(4)
    bureau.retain(UN_ETP, BINOME, sans_adresse, non_retenus=[NON_RETENU])
    bureau.establish()
    for numero in ("CONV-2018-001", "CONV-2018-002", "CONV-2018-003"):
        bureau.sign(numero)
        bureau.prolong(numero, 2019)
    bureau.prolong("CONV-2018-001", 2020)
    bureau.prolong("CONV-2018-003", 2020)
    with bureau.factory() as s, s.begin():
        s.execute(update(Porteur).where(Porteur.siret == sans_adresse.siret).values(contact_email=None))
    before = len(bureau.sink.messages())

    report = publish_appel(bureau.factory, bureau.storage, call_2021(cfg), maintenant=datetime(2020, 11, 19, 8, tzinfo=UTC))
    again = publish_appel(bureau.factory, bureau.storage, call_2021(cfg), maintenant=datetime(2020, 11, 20, 8, tzinfo=UTC))
    send_pending(bureau.factory, bureau.mail, bureau.storage.root)

    assert (report.cree, report.annonces, again.annonces) == (True, 3, 0)
    messages = {m["To"].addresses[0].addr_spec: m for m in bureau.sink.messages()[before:]}
    assert set(messages) == {UN_ETP.email, BINOME.email, NON_RETENU.email}  # not the one without an address
    bodies = {to: fr(m.get_body(("plain",)).get_content()) for to, m in messages.items()}
    assert ("Votre convention CONV-2018-001 (du 1er janvier 2018 au 31 décembre 2020) a déjà été renouvelée 2 fois, "
            "le maximum autorisé : elle ne peut plus être renouvelée. Pour poursuivre l'action après le "
            "31 décembre 2020, votre structure doit répondre au présent appel à projets.") in bodies[UN_ETP.email]
    for other in (BINOME.email, NON_RETENU.email):  # renewable once more, or no convention: the plain announcement
        assert "renouvel" not in bodies[other] and "CONV-" not in bodies[other]
        assert "lance son appel à projets « Appel à projets PLIE 2021" in bodies[other]
    assert all(m["Subject"].startswith("Appel à projets PLIE 2021") for m in messages.values())
    assert [a.get_filename() for a in messages[UN_ETP.email].iter_attachments()] == ["dossier_reponse_2021.xlsx"]


# --- two processes racing for the same renewal ---------------------------------------------------------------

RACER = r"""
import json, sys, time
from datetime import date, datetime
from pathlib import Path
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from adapters.database import make_engine
from actions.conventions import prolong
from models.convention import RenouvellementsEpuises

url, flags, name, rounds, maintenant = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
factory = sessionmaker(make_engine(url), expire_on_commit=False)
with factory() as s:
    s.execute(text("SELECT 1"))  # connected before the start signal
for i, (numero, valide_le) in enumerate(rounds):
    (flags / f"pret-{i}-{name}").touch()
    go = flags / f"go-{i}"
    while not go.exists():
        time.sleep(0.0002)
    debut = time.monotonic()
    try:
        demande = prolong(factory, numero, valide_le=date.fromisoformat(valide_le), instance="comité",
                          maintenant=datetime.fromisoformat(maintenant))
        out = {"avenant": demande.numero, "refus": None, "deja": None if demande.numero else demande.message}
    except RenouvellementsEpuises as exc:
        out = {"avenant": None, "refus": str(exc)}
    except Exception as exc:
        out = {"avenant": None, "refus": None, "erreur": f"{type(exc).__name__}: {exc}"}
    out.update(numero=numero, debut=debut, fin=time.monotonic())
    print(json.dumps(out, ensure_ascii=False), flush=True)
"""


def race(db_url: str, tmp: Path, rounds: list[tuple[str, date]], racers: int = 2) -> list[list[dict]]:
    """``racers`` processes each try every renewal of ``rounds``; each round starts in all of them at once.
    Returns, per round, what each process got."""
    flags = tmp / f"drapeaux-{uuid.uuid4().hex[:8]}"
    flags.mkdir()
    plan = json.dumps([(numero, d.isoformat()) for numero, d in rounds])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", RACER, db_url, str(flags), f"p{k}", plan,
                               instant(rounds[0][1]).isoformat()], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k in range(racers)]
    try:
        for i in range(len(rounds)):
            deadline = time.monotonic() + 120
            while not all((flags / f"pret-{i}-p{k}").exists() for k in range(racers)):
                dead = [p for p in procs if p.poll() not in (None, 0)]
                assert not dead, dead[0].stderr.read()
                assert time.monotonic() < deadline, f"processus pas prêts pour la manche {i}"
                time.sleep(0.005)
            (flags / f"go-{i}").touch()
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    results = [[json.loads(line) for line in out.splitlines()] for out, _ in outputs]
    assert all(len(r) == len(rounds) for r in results)
    return [[results[k][i] for k in range(racers)] for i in range(len(rounds))]


def overlapped(rounds: list[list[dict]]) -> bool:
    """At least one round where every attempt started before any had finished: they really ran at once."""
    return any(max(a["debut"] for a in attempts) < min(a["fin"] for a in attempts) for attempts in rounds)


@pytest.fixture
def cinq(bureau: Bureau) -> list[str]:
    """Five signed conventions, each renewed once: one renewal left."""
    bureau.retain(*(porteur(n) for n in range(11, 16)))
    numeros = bureau.establish()
    for numero in numeros:
        bureau.sign(numero)
        bureau.prolong(numero, 2019)
    assert len(numeros) == 5
    return numeros


@pytest.mark.database_matters("two processes and their locks")
def test_two_processes_racing_for_the_last_renewal_get_exactly_one_avenant(bureau, cinq, db_url, tmp_path):
    rounds = race(db_url, tmp_path, [(numero, VALIDATIONS[2020][0]) for numero in cinq])

    assert overlapped(rounds)

    for numero, attempts in zip(cinq, rounds):
        assert not [a for a in attempts if "erreur" in a], attempts
        [won] = [a for a in attempts if a["avenant"]]
        [lost] = [a for a in attempts if not a["avenant"]]
        assert won["avenant"] == f"{numero}-A2"
        assert (lost["refus"], lost["deja"]) == (None, (  # the same request, carried out by the other
            f"la convention {numero} est déjà renouvelée pour la période du 1er janvier 2020 au 31 décembre 2020 "
            f"par l'avenant {numero}-A2 du 14 novembre 2019 : rien n'a changé"))
        c = bureau.convention(numero)
        assert (c.renouvellements, c.fin) == (2, date(2020, 12, 31))
        assert [(a[0], a[2]) for a in bureau.avenants(numero)] == [(f"{numero}-A1", 1), (f"{numero}-A2", 2)]


@pytest.mark.database_matters("two processes and their locks")
def test_two_processes_racing_for_a_third_renewal_both_fail_and_change_nothing(bureau, cinq, db_url, tmp_path):
    for numero in cinq[:3]:
        bureau.prolong(numero, 2020)
    before = bureau.snapshot()

    rounds = race(db_url, tmp_path, [(numero, VALIDATIONS[2021][0]) for numero in cinq[:3]])

    assert overlapped(rounds)

    for numero, attempts in zip(cinq, rounds):
        assert [a["avenant"] for a in attempts] == [None, None], attempts
        assert all(a["refus"] and a["refus"].startswith(f"la convention {numero} a déjà été renouvelée 2 fois")
                   for a in attempts), attempts
    assert bureau.snapshot() == before


# --- the command line -------------------------------------------------------------------------------------------


def test_cli_lists_conventions_as_json_without_starting_prefect(bureau, signee, db_url):
    bureau.prolong(signee, 2019)
    bureau.sign("CONV-2018-001-A1", date(2018, 11, 29))
    probe = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: sys.stderr.write('PREFECT IMPORTÉ\\n' if 'prefect' in sys.modules else ''))\n"
             "sys.argv = ['aap', 'conventions', '--json', '--maintenant', '2018-12-01']\n"
             "runpy.run_module('flows.cli', run_name='__main__')\n")
    env = {**os.environ, "AAP_DATABASE_URL": db_url, "AAP_STORAGE_DIR": str(bureau.storage.root),
           "PYTHONPATH": str(ROOT), "PREFECT_API_URL": "http://127.0.0.1:9/api"}

    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert "PREFECT IMPORTÉ" not in done.stderr
    rows = {r["numero"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {"CONV-2018-001", "CONV-2018-002"}
    assert all(KEYS <= set(r) for r in rows.values())
    un = rows["CONV-2018-001"]
    assert {k: un[k] for k in KEYS} == {
        "numero": "CONV-2018-001", "porteur": UN_ETP.nom, "siret": UN_ETP.siret, "debut": "2018-01-01",
        "fin": "2019-12-31", "renouvellements": 1, "renouvellements_max": 2, "statut": "en cours",
        "prochaine_action": "dernier renouvellement possible"}  # renewed for 2019, still in its first year
    assert rows["CONV-2018-002"]["prochaine_action"] == "à signer"


@pytest.fixture
def cinq_signees(bureau: Bureau) -> list[str]:
    """Five signed conventions, none renewed yet."""
    bureau.retain(*(porteur(n) for n in range(21, 26)))
    numeros = bureau.establish()
    for numero in numeros:
        bureau.sign(numero)
    assert len(numeros) == 5
    return numeros


@pytest.mark.database_matters("two processes and their locks")
def test_two_processes_asking_the_same_renewal_at_once_renew_the_year_once(bureau, cinq_signees, db_url, tmp_path):
    rounds = race(db_url, tmp_path, [(numero, VALIDATIONS[2019][0]) for numero in cinq_signees])

    assert overlapped(rounds)
    for numero, attempts in zip(cinq_signees, rounds):
        assert not [a for a in attempts if "erreur" in a or a["refus"]], attempts
        assert sorted(a["avenant"] or "" for a in attempts) == ["", f"{numero}-A1"]
        [deja] = [a["deja"] for a in attempts if not a["avenant"]]
        assert deja == (f"la convention {numero} est déjà renouvelée pour la période du 1er janvier 2019 au "
                        f"31 décembre 2019 par l'avenant {numero}-A1 du 15 novembre 2018 : rien n'a changé")
        c = bureau.convention(numero)
        assert (c.renouvellements, c.fin) == (1, date(2019, 12, 31))
        assert [(a[0], a[2]) for a in bureau.avenants(numero)] == [(f"{numero}-A1", 1)]


# --- the same request twice -------------------------------------------------------------------------------------


def test_the_same_renewal_asked_again_changes_nothing_and_says_so(bureau, signee):
    assert bureau.prolong(signee, 2019) == "CONV-2018-001-A1"
    render_pending_conventions(bureau.factory, bureau.storage, pdf=False)
    before = bureau.snapshot()

    again = bureau.ask_prolong(signee, 2019)
    later_that_year = bureau.ask_prolong(signee, 2019, valide_le=date(2018, 12, 3))
    render_pending_conventions(bureau.factory, bureau.storage, pdf=False)

    assert again == later_that_year == AvenantDemande(None, (
        "la convention CONV-2018-001 est déjà renouvelée pour la période du 1er janvier 2019 au 31 décembre 2019 "
        "par l'avenant CONV-2018-001-A1 du 15 novembre 2018 : rien n'a changé"))
    assert bureau.snapshot() == before
    c = bureau.convention(signee)
    assert (c.renouvellements, c.fin) == (1, date(2019, 12, 31))
    assert bureau.prolong(signee, 2020) == "CONV-2018-001-A2"  # the next year is still renewable once


def test_the_same_modification_asked_again_makes_no_second_avenant_document_or_mail(bureau, deux):
    bureau.establish()
    bureau.sign("CONV-2018-002")
    moins = Modification(etp={"Paul Bernard": Decimal("0.5")}, salaires={"Paul Bernard": Decimal("22250.00")},
                         montants={"budget_salaires": Decimal("44500.00"), "ressources_plie": Decimal("17075.00")})
    first = bureau.ask_modify("CONV-2018-002", moins, date(2018, 3, 1))
    render_pending_conventions(bureau.factory, bureau.storage, pdf=False)
    before = bureau.snapshot()
    documents = sorted(p.name for p in bureau.storage.root.rglob("*.docx"))

    again = bureau.ask_modify("CONV-2018-002", moins, date(2018, 3, 1))
    render_pending_conventions(bureau.factory, bureau.storage, pdf=False)

    assert first.numero == "CONV-2018-002-A1"
    assert again == AvenantDemande(None, (
        "la convention CONV-2018-002 a déjà ces valeurs (dernier avenant de modification : CONV-2018-002-A1 "
        "du 1er mars 2018) : aucun avenant établi, rien n'a changé"))
    assert bureau.snapshot() == before
    assert sorted(p.name for p in bureau.storage.root.rglob("*.docx")) == documents
    assert [a[0] for a in bureau.avenants("CONV-2018-002")] == ["CONV-2018-002-A1"]


def test_a_modification_repeating_part_of_an_earlier_one_lists_only_what_changes(bureau, deux):
    bureau.establish()
    bureau.ask_modify("CONV-2018-002", Modification(etp={"Paul Bernard": Decimal("0.5")},
                                                     salaires={"Paul Bernard": Decimal("22250.00")},
                                                     montants={"budget_salaires": Decimal("44500.00"),
                                                               "ressources_plie": Decimal("17075.00")}), date(2018, 3, 1))

    second = bureau.ask_modify("CONV-2018-002", Modification(
        etp={"Paul Bernard": Decimal("0.5")}, remplacements={"Lucie Martin": "Inès Girard"}), date(2018, 4, 2))
    again = bureau.ask_modify("CONV-2018-002", Modification(remplacements={"Lucie Martin": "Inès Girard"}), date(2018, 4, 2))

    assert second.numero == "CONV-2018-002-A2"
    assert convention_history_of(bureau, "CONV-2018-002")["CONV-2018-002-A2"] == [
        "Référent remplacé : Lucie Martin par Inès Girard"]
    assert again.numero is None


def test_conventions_and_avenants_say_in_french_what_they_did_and_what_was_refused(bureau, deux, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="aap")
    bureau.establish()
    render_pending_conventions(bureau.factory, bureau.storage, pdf=False)
    bureau.sign("CONV-2018-001")
    bureau.prolong("CONV-2018-001", 2019)
    bureau.prolong("CONV-2018-001", 2020)
    with pytest.raises(RenouvellementsEpuises):
        bureau.prolong("CONV-2018-001", 2021)
    bureau.modify("CONV-2018-001", Modification(remplacements={"Anne Dupont": "Inès Girard"}), date(2020, 5, 4))

    said = [(r.levelname, fr(r.getMessage())) for r in caplog.records if r.name.startswith("aap.conventions")]
    assert said[:4] == [
        ("INFO", f"Convention CONV-2018-001 établie pour le dossier 2018-001 ({UN_ETP.nom})."),
        ("INFO", f"Convention CONV-2018-002 établie pour le dossier 2018-002 ({BINOME.nom})."),
        ("INFO", f"Convention CONV-2018-001 rédigée pour le dossier 2018-001 ({UN_ETP.nom})."),
        ("INFO", f"Convention CONV-2018-002 rédigée pour le dossier 2018-002 ({BINOME.nom})."),
    ]
    assert said[4:] == [
        ("INFO", "Convention CONV-2018-001 signée le 28 décembre 2017."),
        ("INFO", "Convention CONV-2018-001 : avenant CONV-2018-001-A1 établi : convention renouvelée du "
                 "1er janvier 2019 au 31 décembre 2019."),
        ("INFO", "Convention CONV-2018-001 : avenant CONV-2018-001-A2 établi : convention renouvelée du "
                 "1er janvier 2020 au 31 décembre 2020."),
        ("WARNING", "Renouvellement de la convention CONV-2018-001 refusé : la convention CONV-2018-001 a déjà été "
                    "renouvelée 2 fois (avenant CONV-2018-001-A1 du 15 novembre 2018 et avenant CONV-2018-001-A2 du "
                    "14 novembre 2019) : elle ne peut plus l'être ; la structure doit répondre à un nouvel appel à "
                    "projets."),
        ("INFO", "Avenant CONV-2018-001-A3 établi pour la convention CONV-2018-001 : modification (1 changement)."),
    ]
    assert not any("Dupont" in line or "Girard" in line for _, line in said)  # the référents' names stay in the avenant
