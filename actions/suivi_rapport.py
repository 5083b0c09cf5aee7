"""What the SA and the financeurs read: realised vs objectives per convention and period, with colours."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.appels import load_appel
from config.appel_config import AppelConfig
from forms.rapport_suivi import LigneSuivi, write_rapport_suivi
from models.convention import Convention, etat_en_vigueur
from models.indicateurs import (
    Seuils,
    SeuilsBudget,
    couleur,
    couleur_budget,
    describe_seuils,
    objectifs_au_prorata,
)
from francais.formats import NBSP, compte, format_decimal_fr, format_objectif
from models.suivi import Bilan, Echeance, StatutBilan, fraction_couverte, statut_bilan
from templates.synthese_suivi import (
    ConventionSuivi,
    IndicateurLigne,
    SyntheseSuiviData,
    render_synthese_suivi,
)

ZERO = Decimal("0")
PARIS = ZoneInfo("Europe/Paris")
REPORTED = frozenset({StatutBilan.RECU.value, StatutBilan.A_CORRIGER.value})


@dataclass(frozen=True)
class Mesure:
    """What one period's bilan says, reduced to the figures the report compares (None: not reported)."""

    entrees: int | None = None
    file_active: int | None = None
    sorties: int | None = None
    sorties_positives: int | None = None
    partenariats: int | None = None
    depenses: Decimal | None = None


def measure(contenu: dict[str, Any] | None) -> Mesure:
    """The figures of a bilan as read; a negative one (refused by ``check_bilan``, kept in a bilan with
    errors) counts as not reported, and so does a total that includes one."""
    if not contenu:
        return Mesure()
    positives = [v for v in (contenu.get("sorties_positives") or {}).values() if v is not None]
    depenses = [Decimal(v) for v in (contenu.get("depenses") or {}).values() if v is not None]
    return Mesure(
        entrees=_count(contenu.get("entrees")), file_active=_count(contenu.get("file_active")),
        sorties=_count(contenu.get("sorties")),
        sorties_positives=sum(positives) if positives and min(positives) >= 0 else None,
        partenariats=_count(contenu.get("partenariats")),
        depenses=sum(depenses, ZERO) if depenses and min(depenses) >= ZERO else None,
    )


def _count(value: int | None) -> int | None:
    return value if value is not None and value >= 0 else None


def line_for(e: Echeance, c: Convention, cfg: AppelConfig, arrete_au: date, seuils: Seuils,
             budget: SeuilsBudget, bilans: list[Bilan] | None = None) -> tuple[LigneSuivi, Mesure]:
    """``bilans``: those of ``e`` to account for (by default all; the report keeps those received by its date).
    The objectives are those of the period the bilan covers, for the ETP in force (an avenant counts once
    signed): the same figures as in the form the porteur filled."""
    bilans = e.bilans if bilans is None else bilans
    accepted = [b for b in bilans if b.conforme]
    latest = (accepted or bilans or [None])[-1]
    m = measure(latest.contenu if latest else None)
    fraction = fraction_couverte(e.nature, mi_parcours_mois=cfg.suivi.mi_parcours_mois)
    etat = etat_en_vigueur(c, min(arrete_au, e.periode_fin))
    etp = Decimal(etat["etp"])
    objectifs = objectifs_au_prorata(etp, fraction, **cfg.objectifs.model_dump())
    o = cfg.objectifs
    taux = (Decimal(m.sorties_positives) / Decimal(m.sorties)).quantize(Decimal("0.001")) if m.sorties else None
    prevu = sum((Decimal(etat[k]) for k in ("budget_salaires", "budget_deplacements", "budget_autres")), ZERO)
    statut = statut_bilan(aujourd_hui=arrete_au, due_le=e.due_le, accepte=bool(accepted), recu_avec_erreurs=bool(bilans))
    return LigneSuivi(
        convention=c.numero, porteur=c.dossier.porteur.nom, periode=f"{e.nature.value} {e.periode_debut.year}",
        etp=etp, fraction=fraction,
        entrees=m.entrees, objectif_entrees=objectifs["entrees"],
        couleur_entrees=couleur(m.entrees, objectifs["entrees"], seuils),
        file_active=m.file_active, objectif_file_active=objectifs["file_active"],
        couleur_file_active=couleur(m.file_active, objectifs["file_active"], seuils),
        taux_sorties_positives=taux, objectif_taux=o.taux_sorties_positives,
        couleur_taux=couleur(taux, o.taux_sorties_positives, seuils),
        partenariats=m.partenariats, objectif_partenariats=objectifs["partenariats"],
        couleur_partenariats=couleur(m.partenariats, objectifs["partenariats"], seuils),
        budget_consomme=m.depenses, budget_prevu=prevu, couleur_budget=couleur_budget(m.depenses, prevu, fraction, budget),
        statut=statut.value,
    ), m


def current_lines(pairs: list[tuple[LigneSuivi, Mesure]]) -> list[tuple[LigneSuivi, Mesure]]:
    """Each convention once, for the PLIE-wide total: its latest period with a bilan, else its latest period.
    A final bilan counts the whole year, its mid-term bilan the first months of the same year: adding both
    would count the same participants twice (``pairs`` come ordered by convention, then period)."""
    latest: dict[str, tuple[LigneSuivi, Mesure]] = {}
    for ligne, mesure in pairs:
        current = latest.get(ligne.convention)
        if current is None or ligne.statut in REPORTED or current[0].statut not in REPORTED:
            latest[ligne.convention] = (ligne, mesure)
    return list(latest.values())


def total_line(lignes: list[LigneSuivi], mesures: list[Mesure], seuils: Seuils, cfg: AppelConfig) -> LigneSuivi:
    def total(attr: str) -> int | None:
        values = [getattr(x, attr) for x in lignes if getattr(x, attr) is not None]
        return sum(values) if values else None

    def dec_sum(attr: str) -> Decimal:
        return sum((getattr(x, attr) for x in lignes), ZERO)

    # the PLIE-wide rate: all positive exits over all exits, not an average of rates
    sorties = sum(m.sorties for m in mesures if m.sorties and m.sorties_positives is not None)
    positives = sum(m.sorties_positives for m in mesures if m.sorties and m.sorties_positives is not None)
    taux = (Decimal(positives) / Decimal(sorties)).quantize(Decimal("0.001")) if sorties else None
    consomme = [x.budget_consomme for x in lignes if x.budget_consomme is not None]
    etp = sum((x.etp for x in lignes), ZERO)
    return LigneSuivi(
        convention="TOTAL PLIE", porteur=compte(len({x.convention for x in lignes}), "convention", "conventions"),
        periode="dernier bilan de chaque convention",
        etp=etp, fraction=Decimal(1),
        entrees=total("entrees"), objectif_entrees=dec_sum("objectif_entrees"),
        couleur_entrees=couleur(total("entrees"), dec_sum("objectif_entrees"), seuils),
        file_active=total("file_active"), objectif_file_active=dec_sum("objectif_file_active"),
        couleur_file_active=couleur(total("file_active"), dec_sum("objectif_file_active"), seuils),
        taux_sorties_positives=taux, objectif_taux=cfg.objectifs.taux_sorties_positives,
        couleur_taux=couleur(taux, cfg.objectifs.taux_sorties_positives, seuils),
        partenariats=total("partenariats"), objectif_partenariats=dec_sum("objectif_partenariats"),
        couleur_partenariats=couleur(total("partenariats"), dec_sum("objectif_partenariats"), seuils),
        budget_consomme=sum(consomme, ZERO) if consomme else None, budget_prevu=dec_sum("budget_prevu"),
        couleur_budget="—", statut="",
    )


def write_suivi_report(session: Session, annee: int, path: Path, *, maintenant: datetime) -> tuple[Path, Path]:
    """The consolidated workbook (with charts) and its French .docx synthesis beside it."""
    appel, cfg = load_appel(session, annee)
    arrete_au = maintenant.astimezone(PARIS).date()  # the SA's day, not UTC's
    seuils = Seuils(cfg.suivi.seuil_vert, cfg.suivi.seuil_orange)
    budget = SeuilsBudget()
    pairs: list[tuple[LigneSuivi, Mesure]] = []
    for c in session.scalars(select(Convention).where(Convention.appel_id == appel.id).order_by(Convention.numero)):
        echeances = session.scalars(select(Echeance).where(Echeance.convention_id == c.id)
                                    .order_by(Echeance.periode_debut, Echeance.due_le))
        for e in reported_echeances(list(echeances), arrete_au, maintenant):
            recus = [b for b in e.bilans if b.recu_le <= maintenant]  # replaying a past day ignores later bilans
            pairs.append(line_for(e, c, cfg, arrete_au, seuils, budget, recus))
    lignes = [ligne for ligne, _ in pairs]
    courantes = current_lines(pairs)
    total = total_line([ligne for ligne, _ in courantes], [m for _, m in courantes], seuils, cfg)
    workbook = write_rapport_suivi(path, titre=f"Suivi des conventions — appel à projets {annee}", arrete_au=arrete_au,
                                   lignes=lignes, total=total, seuils_texte=describe_seuils(seuils, budget))
    blocs = tuple(_convention_suivi(x) for x in lignes)
    bloc_total = _convention_suivi(total)
    synthese = render_synthese_suivi(SyntheseSuiviData(
        appel_annee=annee, arrete_au=arrete_au, conventions=blocs, total=bloc_total,
        points_attention=tuple(_attention(blocs, bloc_total)), emise_le=maintenant,
    ), path.with_suffix(".docx"))
    return workbook, synthese


def reported_echeances(echeances: list[Echeance], arrete_au: date, maintenant: datetime) -> list[Echeance]:
    """The échéances a report on ``arrete_au`` shows: those due by then or with a bilan received; a convention
    with none yet shows the first one under way, so that from the first day every structure is in the report."""
    shown = [e for e in echeances if e.due_le <= arrete_au or any(b.recu_le <= maintenant for b in e.bilans)]
    if not shown:
        started = sorted((e for e in echeances if e.periode_debut <= arrete_au), key=lambda e: (e.due_le, e.id))
        shown = started[:1]
    return shown


def _fmt(value: Decimal | int | None, pourcent: bool = False) -> str:
    if value is None:
        return "non renseigné"
    if pourcent:
        return f"{format_decimal_fr((Decimal(value) * 100).quantize(Decimal('0.1')))}{NBSP}%"
    return format_decimal_fr(Decimal(value).quantize(Decimal("0.1")) if isinstance(value, Decimal) else Decimal(value))


def _convention_suivi(x: LigneSuivi) -> ConventionSuivi:
    return ConventionSuivi(
        convention_numero=x.convention, porteur_nom=x.porteur, periode=x.periode, etp=x.etp,
        indicateurs=(
            IndicateurLigne("Entrées", _fmt(x.entrees), format_objectif(x.objectif_entrees), x.couleur_entrees),
            IndicateurLigne("File active", _fmt(x.file_active), format_objectif(x.objectif_file_active), x.couleur_file_active),
            IndicateurLigne("Taux de sorties positives", _fmt(x.taux_sorties_positives, True), _fmt(x.objectif_taux, True),
                            x.couleur_taux),
            IndicateurLigne("Partenariats entreprises", _fmt(x.partenariats), format_objectif(x.objectif_partenariats),
                            x.couleur_partenariats),
        ),
        budget_consomme=x.budget_consomme, budget_prevu=x.budget_prevu, commentaire=x.statut or None,
    )


def _attention(blocs: tuple[ConventionSuivi, ...], total: ConventionSuivi) -> list[str]:
    """The points d'attention, read off the synthesis' own table: each bilan late or to correct, each indicator
    it calls « insuffisant », for each convention and for the PLIE as a whole — with the table's words."""
    out = []
    for b in (*blocs, total):
        qui = f"{b.convention_numero} ({b.porteur_nom})" if b is not total else "Ensemble du PLIE"
        if b.commentaire in {StatutBilan.EN_RETARD.value, StatutBilan.A_CORRIGER.value}:
            out.append(f"{qui} : bilan {b.periode} {b.commentaire}")
        rouges = [i.libelle[0].lower() + i.libelle[1:] for i in b.indicateurs if i.couleur == "rouge"]
        if rouges:
            out.append(f"{qui}, {b.periode} : insuffisant sur {', '.join(rouges)}")
    return out or ["Aucun point d'attention."]
