"""An avenant to a convention: a prolongation (a renewal) or a modification.

``avenant_context`` is pure and formats everything in French; the same context
renders the accompanying e-mail (``avenant_a_signer``). The référents, budget,
objectives and échéances it restates are formatted as in the convention
(``templates.convention.engagements_context``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from templates.convention import (
    EcheanceConvention,
    ObjectifsConvention,
    ReferentConvention,
    check_echeances,
    check_periode,
    check_referents,
    engagements_context,
    limite_renouvellements,
    parties_context,
)
from francais.formats import format_date, to_paris
from templates.render import render_docx

Nature = Literal["prolongation", "modification"]

TEMPLATE = "avenant.docx"
NATURES = ("prolongation", "modification")


@dataclass(frozen=True)
class AvenantData:
    """Everything one avenant states (``emis_le`` is aware).

    ``periode_debut``/``periode_fin`` is the period the convention covers after
    this avenant; ``renouvellement`` is the renewal's rank (1, 2…) for a
    prolongation, None for a modification.
    """

    numero: str
    ordre: int
    nature: Nature
    convention_numero: str
    convention_debut: date
    appel_annee: int
    porteur_nom: str
    porteur_siret: str | None
    porteur_adresse: str | None
    representant: str | None
    valide_le: date
    instance: str | None
    renouvellement: int | None
    renouvellements_max: int
    periode_debut: date
    periode_fin: date
    changements: tuple[str, ...]
    referents: tuple[ReferentConvention, ...]
    etp_total: Decimal
    budget_salaires: Decimal
    budget_deplacements: Decimal
    budget_autres: Decimal
    ressources_fse: Decimal
    ressources_plie: Decimal
    ressources_autres: Decimal
    objectifs: ObjectifsConvention
    echeances: tuple[EcheanceConvention, ...]
    emis_le: datetime

    def __post_init__(self) -> None:
        if self.nature not in NATURES:
            raise ValueError(f"nature d'avenant inconnue : {self.nature!r}")
        if self.ordre < 1:
            raise ValueError(f"numéro d'ordre d'avenant invalide : {self.ordre}")
        to_paris(self.emis_le)  # refuses a naive datetime
        check_periode(self.periode_debut, self.periode_fin)
        check_referents(self.referents, self.etp_total)
        check_echeances(self.echeances, self.periode_debut)
        if self.nature == "prolongation":
            if self.renouvellement is None or not 1 <= self.renouvellement <= self.renouvellements_max:
                raise ValueError(
                    f"renouvellement n° {self.renouvellement} impossible : la convention "
                    f"{self.convention_numero} ne peut être renouvelée que {self.renouvellements_max} fois"
                )
        else:
            if self.renouvellement is not None:
                raise ValueError("un avenant de modification n'est pas un renouvellement")
            if not [c for c in self.changements if c.strip()]:
                raise ValueError("un avenant de modification doit énoncer ses changements")


def avenant_context(a: AvenantData) -> dict[str, object]:
    """The docx/e-mail context of an avenant, every value formatted in French."""
    prolongation = a.nature == "prolongation"
    return {
        "numero": a.numero,
        "ordre": str(a.ordre),
        "prolongation": prolongation,
        "convention_numero": a.convention_numero,
        "convention_debut": format_date(a.convention_debut),
        "appel_annee": str(a.appel_annee),
        **parties_context(a.porteur_nom, a.porteur_siret, a.porteur_adresse, a.representant),
        "valide_le": format_date(a.valide_le),
        "instance": a.instance.strip() if a.instance and a.instance.strip() else None,
        "renouvellement": str(a.renouvellement) if a.renouvellement is not None else None,
        "renouvellements_max": str(a.renouvellements_max),
        "limite_renouvellements": limite_renouvellements(a.renouvellements_max),
        "dernier_renouvellement": prolongation and a.renouvellement == a.renouvellements_max,
        "periode_debut": format_date(a.periode_debut),
        "periode_fin": format_date(a.periode_fin),
        "changements": [c.strip() for c in a.changements if c.strip()],
        **engagements_context(
            referents=a.referents, etp_total=a.etp_total,
            budget_salaires=a.budget_salaires, budget_deplacements=a.budget_deplacements,
            budget_autres=a.budget_autres, ressources_fse=a.ressources_fse,
            ressources_plie=a.ressources_plie, ressources_autres=a.ressources_autres,
            objectifs=a.objectifs, echeances=a.echeances,
        ),
        "emis_le": format_date(a.emis_le),
    }


def render_avenant(a: AvenantData, out: Path) -> Path:
    """Renders the avenant of ``a`` into ``out``."""
    return render_docx(TEMPLATE, avenant_context(a), out)
