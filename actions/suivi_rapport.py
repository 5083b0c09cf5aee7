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

from actions.depots import load_appel
from config.appel_config import AppelConfig
from forms.rapport_suivi import LigneSuivi, write_rapport_suivi
from models.convention import Convention
from models.indicateurs import (
    Seuils,
    SeuilsBudget,
    couleur,
    couleur_budget,
    describe_seuils,
    objectif_pro_rata,
)
from models.suivi import Bilan, Echeance, NatureEcheance
from francais.formats import NBSP, format_decimal_fr, format_objectif
from templates.synthese_suivi import (
    ConventionSuivi,
    IndicateurLigne,
    SyntheseSuiviData,
    render_synthese_suivi,
)

ZERO = Decimal("0")
PARIS = ZoneInfo("Europe/Paris")
REPORTED = frozenset({"bilan reçu", "reçu avec erreurs"})


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


def fraction_for(nature: NatureEcheance, cfg: AppelConfig) -> Decimal:
    """A mid-term bilan covers the first months of the year, a final one all of it."""
    if nature is NatureEcheance.MI_PARCOURS:
        return Decimal(cfg.suivi.mi_parcours_mois) / Decimal(12)
    return Decimal(1)


def line_for(e: Echeance, c: Convention, cfg: AppelConfig, arrete_au: date, seuils: Seuils,
             budget: SeuilsBudget, bilans: list[Bilan] | None = None) -> tuple[LigneSuivi, Mesure]:
    """``bilans``: those of ``e`` to account for (by default all; the report keeps those received by its date)."""
    bilans = e.bilans if bilans is None else bilans
    accepted = [b for b in bilans if b.conforme]
    latest = (accepted or bilans or [None])[-1]
    m = measure(latest.contenu if latest else None)
    fraction = fraction_for(e.nature, cfg)
    o = cfg.objectifs
    obj_entrees = objectif_pro_rata(Decimal(o.entrees), c.etp, fraction)
    obj_file_active = objectif_pro_rata(Decimal(o.file_active), c.etp, Decimal(1))  # a stock, not a flow
    obj_partenariats = objectif_pro_rata(Decimal(o.partenariats_par_binome) / 2, c.etp, fraction)
    taux = (Decimal(m.sorties_positives) / Decimal(m.sorties)).quantize(Decimal("0.001")) if m.sorties else None
    prevu = c.budget_salaires + c.budget_deplacements + c.budget_autres
    if accepted:
        statut = "bilan reçu"
    elif bilans:
        statut = "reçu avec erreurs"
    elif arrete_au > e.due_le:
        statut = "en retard"
    else:
        statut = "à venir"
    return LigneSuivi(
        convention=c.numero, porteur=c.dossier.porteur.nom, periode=f"{e.nature.value} {e.periode_debut.year}",
        etp=c.etp, fraction=fraction,
        entrees=m.entrees, objectif_entrees=obj_entrees, couleur_entrees=couleur(m.entrees, obj_entrees, seuils),
        file_active=m.file_active, objectif_file_active=obj_file_active,
        couleur_file_active=couleur(m.file_active, obj_file_active, seuils),
        taux_sorties_positives=taux, objectif_taux=o.taux_sorties_positives,
        couleur_taux=couleur(taux, o.taux_sorties_positives, seuils),
        partenariats=m.partenariats, objectif_partenariats=obj_partenariats,
        couleur_partenariats=couleur(m.partenariats, obj_partenariats, seuils),
        budget_consomme=m.depenses, budget_prevu=prevu, couleur_budget=couleur_budget(m.depenses, prevu, fraction, budget),
        statut=statut,
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
        convention="TOTAL PLIE", porteur=f"{len({x.convention for x in lignes})} convention(s)",
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
        for e in echeances:
            recus = [b for b in e.bilans if b.recu_le <= maintenant]  # replaying a past day ignores later bilans
            if e.due_le <= arrete_au or recus:
                pairs.append(line_for(e, c, cfg, arrete_au, seuils, budget, recus))
    lignes = [ligne for ligne, _ in pairs]
    courantes = current_lines(pairs)
    total = total_line([ligne for ligne, _ in courantes], [m for _, m in courantes], seuils, cfg)
    workbook = write_rapport_suivi(path, titre=f"Suivi des conventions — appel à projets {annee}", arrete_au=arrete_au,
                                   lignes=lignes, total=total, seuils_texte=describe_seuils(seuils, budget))
    synthese = render_synthese_suivi(SyntheseSuiviData(
        appel_annee=annee, arrete_au=arrete_au, conventions=tuple(_convention_suivi(x) for x in lignes),
        total=_convention_suivi(total), points_attention=tuple(_attention(lignes)), emise_le=maintenant,
    ), path.with_suffix(".docx"))
    return workbook, synthese


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


def _attention(lignes: list[LigneSuivi]) -> list[str]:
    out = []
    for x in lignes:
        if x.statut in {"en retard", "reçu avec erreurs"}:
            out.append(f"{x.convention} ({x.porteur}) : bilan {x.periode} {x.statut}")
        reds = [name for name, col in (("entrées", x.couleur_entrees), ("file active", x.couleur_file_active),
                                       ("sorties positives", x.couleur_taux), ("partenariats", x.couleur_partenariats))
                if col == "rouge"]
        if reds:
            out.append(f"{x.convention} ({x.porteur}), {x.periode} : insuffisant sur {', '.join(reds)}")
    return out or ["Aucun point d'attention."]

