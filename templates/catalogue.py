"""Every Word and e-mail template, what its context provides, and a specimen of that context.

The ``.docx`` files are the source the SA edits; this table is what the code promises
them: the context function that fills each one, the variables it cannot do without
(a section removed by mistake), and a specimen built from representative data, with a
porteur name full of XML's special characters. ``aap modeles verifier`` and the tests
check each template against it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from templates.accuse_bilan import AccuseBilanData, accuse_context
from templates.attestation import AttestationData, PieceLine, attestation_context
from templates.avenant import AvenantData, avenant_context
from templates.convention import (
    ConventionData,
    EcheanceConvention,
    ObjectifsConvention,
    ReferentConvention,
    convention_context,
)
from templates.fiche_presence import FichePresenceData, fiche_context
from templates.index_fse import IndexFseData, JustificatifIndex, index_context
from templates.journal_fse import EntreeExtrait, JournalFseData, SceauExtrait, journal_context
from templates.lettre_decision import LettreDecisionData, lettre_context
from templates.mails import annonce_context
from templates.passage_mails import echec_context
from templates.note_instruction import ConstatLigne, NoteInstructionData, ReferentLigne, note_context
from templates.suivi_mails import demande_context, digest_context, relance_context
from templates.synthese_suivi import ConventionSuivi, IndicateurLigne, SyntheseSuiviData, synthese_suivi_context
from templates.trust_mails import contact_context, verification_context

UTC = timezone.utc
NOM_PIEGE = "Emploi & Insertion <Côte-d'Or>"
ADRESSE = "3 rue des Forges\n99000 Valmont"
SHA = "3f" * 32
IDENTITE = "organisme"  # the variable every template receives besides its context


@dataclass(frozen=True)
class Modele:
    """A template and the context that fills it: ``specimens`` give one context per case it must handle."""

    fichier: str
    titre: str
    specimens: Callable[[], tuple[dict[str, Any], ...]]
    requis: dict[str, str]  # variable -> what is missing without it, in French

    def variables(self) -> set[str]:
        """Every variable the context provides (the union over the specimens) and the organisation's identity."""
        return {IDENTITE}.union(*(set(s) for s in self.specimens()))


def _attestation(**overrides: Any) -> AttestationData:
    values: dict[str, Any] = dict(
        numero="AAP-2018-0003", appel_titre="Référents de parcours PLIE", appel_annee=2018, porteur_nom=NOM_PIEGE,
        porteur_siret="73282932000074", porteur_adresse=ADRESSE, canal="courriel",
        recu_le=datetime(2017, 12, 6, 9, 42, tzinfo=UTC), date_limite=datetime(2017, 12, 7, 16, 0, tzinfo=UTC),
        hors_delai=False, canaux_recus=("courriel",), canaux_attendus=("courrier",),
        pieces=(PieceLine("dossier_reponse.xlsx", 48_213, SHA, "acceptée"),
                PieceLine("cv.pdf", 120_400, SHA, "refusée", "PDF illisible ou tronqué")),
        manquants=("CV de chaque référent proposé",), complement=False, version=1,
        emis_le=datetime(2017, 12, 6, 9, 45, tzinfo=UTC),
    )
    return AttestationData(**{**values, **overrides})


def _attestations() -> tuple[dict[str, Any], ...]:
    return (attestation_context(_attestation()),
            attestation_context(_attestation(hors_delai=True, complement=True, version=2, canaux_attendus=(),
                                             canaux_recus=("courriel", "courrier"), manquants=(), pieces=())))


def _note(**overrides: Any) -> NoteInstructionData:
    values: dict[str, Any] = dict(
        appel_titre="Référents de parcours PLIE", appel_annee=2018, dossier_numero="2018-003", porteur_nom=NOM_PIEGE,
        porteur_siret="73282932000074", porteur_adresse=ADRESSE, contact_nom="Claire Martin",
        contact_email="claire.martin@example.org", contact_telephone="01 99 00 12 34",
        recu_le=datetime(2017, 12, 6, 9, 42, tzinfo=UTC), canaux=("courriel", "courrier"), admission_hors_delai=None,
        referents=(ReferentLigne("Anne Dupont", Decimal("1"), Decimal("44000"), Decimal("44500"), True),),
        etp_total=Decimal("1"), budget_salaires=Decimal("44000"), budget_deplacements=Decimal("3000"),
        budget_autres=None, ressources_fse=Decimal("27000"), ressources_plie=Decimal("20000"), ressources_autres=None,
        constats=(ConstatLigne("réserve", "CV à compléter"),), avis="favorable", avis_motifs=("Budget équilibré",),
        version=1, instruit_le=datetime(2017, 12, 9, 13, 30, tzinfo=UTC), historique=(), plafond_etp=Decimal("44500"),
        objectifs=("au moins 56 entrées par ETP et par an",),
    )
    return NoteInstructionData(**{**values, **overrides})


def _notes() -> tuple[dict[str, Any], ...]:
    return (note_context(_note()),
            note_context(_note(version=2, historique=((datetime(2017, 12, 8, 9, 0, tzinfo=UTC), "réservé"),),
                               admission_hors_delai="retard du courrier", constats=(), referents=())))


def _lettre(decision: str) -> LettreDecisionData:
    return LettreDecisionData(
        appel_titre="Référents de parcours PLIE", appel_annee=2018, dossier_numero="2018-003", porteur_nom=NOM_PIEGE,
        porteur_adresse=ADRESSE, contact_nom="Claire Martin", decision=decision,  # type: ignore[arg-type]
        motif="Budget déséquilibré" if decision == "non retenu" else None,
        questions="Quel calendrier de recrutement ?" if decision == "ajourné" else None,
        reponse_avant=date(2017, 12, 26) if decision == "ajourné" else None, comite_le=date(2017, 12, 11),
        etp_retenus=Decimal("1.5"), debut_convention=date(2018, 1, 1),
        emis_le=datetime(2017, 12, 12, 9, 0, tzinfo=UTC), numero_courrier="DEC-2018-003-1",
    )


def _lettres() -> tuple[dict[str, Any], ...]:
    return tuple(lettre_context(_lettre(d)) for d in ("retenu", "non retenu", "ajourné"))


def _engagements(debut: date, fin: date) -> dict[str, Any]:
    return dict(
        referents=(ReferentConvention("Sophie Durand", Decimal("0.5"), Decimal("22000")),),
        etp_total=Decimal("0.5"), budget_salaires=Decimal("22000"), budget_deplacements=Decimal("1500"),
        budget_autres=Decimal("0"), ressources_fse=Decimal("14000"), ressources_plie=Decimal("9500"),
        ressources_autres=Decimal("0"),
        objectifs=ObjectifsConvention(Decimal("28"), Decimal("35"), Decimal("0.50"), Decimal("1.5")),
        echeances=(EcheanceConvention("Bilan à mi-parcours", date(debut.year, 7, 31)),
                   EcheanceConvention("Bilan final", date(fin.year + 1, 3, 1))),
    )


def _conventions() -> tuple[dict[str, Any], ...]:
    def one(maximum: int, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = dict(
            numero="CONV-2018-001", appel_titre="Référents de parcours PLIE", appel_annee=2018,
            dossier_numero="2018-003", porteur_nom=NOM_PIEGE, porteur_siret="73282932000074", porteur_adresse=ADRESSE,
            representant="Claire Martin, présidente", debut=date(2018, 1, 1), fin=date(2018, 12, 31),
            **_engagements(date(2018, 1, 1), date(2018, 12, 31)), renouvellements_max=maximum,
            emise_le=datetime(2017, 12, 15, 9, 0, tzinfo=UTC))
        return convention_context(ConventionData(**{**values, **overrides}))
    return one(2), one(0, representant=None, porteur_siret=None, porteur_adresse=None)


def _avenants() -> tuple[dict[str, Any], ...]:
    def one(nature: str, renouvellement: int | None, debut: date, fin: date) -> dict[str, Any]:
        return avenant_context(AvenantData(
            numero=f"CONV-2018-001-A{renouvellement or 3}", ordre=renouvellement or 3, nature=nature,  # type: ignore[arg-type]
            convention_numero="CONV-2018-001", convention_debut=date(2018, 1, 1), appel_annee=2018,
            porteur_nom=NOM_PIEGE, porteur_siret="73282932000074", porteur_adresse=ADRESSE,
            representant="Claire Martin, présidente", valide_le=date(debut.year - 1, 12, 10),
            instance="comité de pilotage", renouvellement=renouvellement, renouvellements_max=2, periode_debut=debut,
            periode_fin=fin, changements=("ETP de Sophie Durand : 0,4 → 0,5",), **_engagements(debut, fin),
            emis_le=datetime(debut.year - 1, 12, 12, 9, 0, tzinfo=UTC)))
    return (one("prolongation", 1, date(2019, 1, 1), date(2019, 12, 31)),
            one("prolongation", 2, date(2020, 1, 1), date(2020, 12, 31)),
            one("modification", None, date(2019, 1, 1), date(2019, 12, 31)))


def _accuses() -> tuple[dict[str, Any], ...]:
    def one(erreurs: tuple[str, ...]) -> dict[str, Any]:
        return accuse_context(AccuseBilanData(
            numero="BIL-2018-0001", convention_numero="CONV-2018-003", periode="mi-parcours",
            periode_debut=date(2018, 1, 1), periode_fin=date(2018, 6, 30), porteur_nom=NOM_PIEGE,
            recu_le=datetime(2018, 7, 9, 8, 5, tzinfo=UTC), pieces=(("bilan.xlsx", 45678, SHA),), erreurs=erreurs,
            emis_le=datetime(2018, 7, 9, 8, 6, tzinfo=UTC)))
    return one(()), one(("Le nombre d'entrées réalisées n'est pas renseigné.",))


def _fiches() -> tuple[dict[str, Any], ...]:
    return (fiche_context(FichePresenceData("CONV-2018-003", NOM_PIEGE, "Anne Dupont", date(2018, 3, 1))),)


def _syntheses() -> tuple[dict[str, Any], ...]:
    suivi = ConventionSuivi(
        convention_numero="CONV-2018-003", porteur_nom=NOM_PIEGE, periode="du 1er janvier 2018 au 30 juin 2018",
        etp=Decimal("1.5"), indicateurs=(IndicateurLigne("Entrées", "30", "28", "vert"),),
        budget_consomme=Decimal("20000"), budget_prevu=Decimal("70500"), commentaire="Démarrage rapide.")
    total = ConventionSuivi(
        convention_numero="ensemble", porteur_nom="Ensemble des conventions", periode=suivi.periode,
        etp=Decimal("1.5"), indicateurs=suivi.indicateurs, budget_consomme=None, budget_prevu=Decimal("70500"),
        commentaire=None)
    return (synthese_suivi_context(SyntheseSuiviData(
        appel_annee=2018, arrete_au=date(2018, 6, 30), conventions=(suivi,), total=total,
        points_attention=("Sorties positives en deçà de l'objectif.",), emise_le=datetime(2018, 7, 10, 9, 0, tzinfo=UTC))),)


def _journal() -> tuple[dict[str, Any], ...]:
    entree = EntreeExtrait(12, datetime(2017, 12, 8, 7, 30, tzinfo=UTC), f"Dépôt n° 3 de {NOM_PIEGE} : enregistré.",
                           "marie", SHA)
    def data(sceaux: tuple[SceauExtrait, ...]) -> JournalFseData:
        return JournalFseData("2018-001", "CONV-2018-001", NOM_PIEGE, (entree,), sceaux, "journal_2018-001.json",
                              datetime(2019, 3, 31, 16, 0, tzinfo=UTC))
    return (journal_context(data((SceauExtrait(date(2017, 12, 8), 40, SHA, "journal/sceaux/2017/sceau.txt"),))),
            journal_context(data(())))


def _index() -> tuple[dict[str, Any], ...]:
    return (index_context(IndexFseData(
        convention_numero="CONV-2018-003", porteur_nom=NOM_PIEGE, porteur_siret="73282932000074",
        documents=("Dossier de réponse", "Convention"),
        justificatifs=(JustificatifIndex("BIL-2018-0001", "mi-parcours", "dépense", "Salaires", Decimal("20000"),
                                         "salaires.pdf", SHA),),
        emis_le=datetime(2018, 7, 10, 9, 0, tzinfo=UTC))),)


def _suivi_mail(**extra: Any) -> dict[str, Any]:
    return dict(convention_numero="CONV-2018-003", porteur_nom=NOM_PIEGE, periode="mi-parcours",
                periode_debut=date(2018, 1, 1), periode_fin=date(2018, 6, 30), date_limite=date(2018, 7, 31),
                formulaire_nom="bilan_CONV-2018-003.xlsx", **extra)


DOCUMENTS: dict[str, Modele] = {m.fichier: m for m in (
    Modele("attestation_depot.docx", "attestation de dépôt", _attestations,
           {"numero": "le numéro de l'attestation", "pieces": "le tableau des pièces reçues",
            "anomalies": "les pièces manquantes ou refusées", "hors_delai": "la mention d'un dépôt hors délai"}),
    Modele("note_instruction.docx", "note d'instruction", _notes,
           {"dossier_numero": "le numéro du dossier", "referents": "le tableau des référents",
            "avis": "l'avis", "constats_groupes": "les constats de l'instruction"}),
    Modele("lettre_decision.docx", "lettre de décision du comité", _lettres,
           {"decision": "le choix de la section selon la décision", "motif_lignes": "le motif d'un dossier non retenu",
            "questions_lignes": "les questions d'un dossier ajourné",
            "reponse_avant": "la date limite de réponse d'un dossier ajourné"}),
    Modele("convention.docx", "convention de partenariat", _conventions,
           {"numero": "le numéro de la convention", "referents": "le tableau des référents",
            "objectifs_lignes": "les objectifs", "echeances": "les échéances de suivi"}),
    Modele("avenant.docx", "avenant", _avenants,
           {"numero": "la référence de l'avenant", "prolongation": "le choix entre prolongation et modification",
            "changements": "la liste des changements", "echeances": "les échéances de suivi"}),
    Modele("accuse_bilan.docx", "accusé de réception de bilan", _accuses,
           {"numero": "le numéro de l'accusé", "accepte": "le résultat de l'examen du bilan",
            "erreurs": "les erreurs à corriger"}),
    Modele("fiche_presence.docx", "fiche de présence", _fiches,
           {"lignes": "les lignes d'émargement", "referent": "le nom du référent"}),
    Modele("synthese_suivi.docx", "synthèse du suivi des conventions", _syntheses,
           {"conventions": "le bloc de chaque convention", "total": "le bloc de l'ensemble",
            "points_attention": "les points d'attention"}),
    Modele("index_fse.docx", "index du dossier FSE", _index,
           {"documents": "la liste des documents", "justificatifs": "le tableau des justificatifs"}),
    Modele("journal_fse.docx", "extrait du journal pour le dossier FSE", _journal,
           {"entrees": "le tableau des entrées", "sceaux": "le tableau des sceaux du jour",
            "piece_jointe": "le nom du fichier joint qui permet le recalcul"}),
)}

MAILS: dict[str, Callable[[], tuple[dict[str, Any], ...]]] = {
    "attestation_depot": _attestations,
    "notification_decision": _lettres,
    "convention_a_signer": _conventions,
    "avenant_a_signer": _avenants,
    "accuse_bilan": _accuses,
    "annonce_appel": lambda: (annonce_context(
        appel_titre="Référents de parcours PLIE", appel_annee=2018,
        date_limite=datetime(2017, 12, 7, 16, 0, tzinfo=UTC), formulaire_nom="dossier_reponse_AAP_2018.xlsx",
        comite_le=date(2017, 12, 11),
        conventions_epuisees=(("CONV-2016-001", date(2016, 1, 1), date(2018, 12, 31), 2),)),),
    "demande_bilan": lambda: (demande_context(**_suivi_mail()),),
    "relance_bilan": lambda: (relance_context(**_suivi_mail(rang=1, retard_jours=7)),),
    "digest_echeancier": lambda: (digest_context(jour=date(2018, 7, 22), envois=("Demande envoyée",),
                                                 retards=("CONV-2018-003 : 1 jour",), fins_prochaines=(),
                                                 en_attente=("dépôt n° 7 (à vérifier) : expéditeur inconnu",),
                                                 passages=("releve-2018-le-08-12-2017-09h00 : échoué — Interrompu.",)),),
    "depot_a_verifier": lambda: (
        verification_context(porteur_nom=NOM_PIEGE, reference="dossier 2018-003",
                             recu_le=datetime(2017, 12, 6, 9, 42, tzinfo=UTC)),
        verification_context(porteur_nom=NOM_PIEGE, reference="convention CONV-2018-003",
                             recu_le=datetime(2018, 7, 20, 9, 42, tzinfo=UTC), bilan=True)),
    "passage_en_echec": lambda: (
        echec_context(nom="releve-2018-le-08-12-2017-09h00", deploiement="releve-planifiee/releve-depots",
                      debut=datetime(2017, 12, 8, 8, 0, tzinfo=UTC), lien="http://127.0.0.1:4200/runs/flow-run/1",
                      message="4 courriels non envoyés : serveur SMTP injoignable ; ils partiront au prochain passage.",
                      silence=timedelta(hours=6)),
        echec_context(nom="echeancier-le-09-12-2017-07h00", deploiement="echeancier/echeancier-quotidien",
                      debut=datetime(2017, 12, 9, 6, 0, tzinfo=UTC), lien=None, message="Interrompu.", silence=timedelta(hours=6))),
    "contact_modifie": lambda: (contact_context(
        porteur_nom=NOM_PIEGE, dossier="2018-003", recu_le=datetime(2017, 12, 6, 9, 42, tzinfo=UTC),
        contact_nom="Nadia Nouvelle", contact_email="nadia.nouvelle@example.org"),),
}
