"""The yearly call's configuration, loaded from ``config/appels/<annee>.toml``."""
from __future__ import annotations

import tomllib
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError

from config.refus import Refus

CONFIG_DIR = Path(__file__).resolve().parent / "appels"


class AppelSection(BaseModel):
    annee: int
    titre: str
    adresses_depot: list[str]
    fuseau: str = "Europe/Paris"


class Calendrier(BaseModel):
    publication: date
    date_limite: datetime  # naive, in the call's time zone
    comite: date
    debut_convention: date
    duree_convention_mois: int = 12


class Commande(BaseModel):
    referents_voulus: int
    plafond_salaire_charge_etp: Decimal
    frais_deplacement_requis: bool = True
    canaux_requis: list[str] = Field(default_factory=lambda: ["courriel", "courrier"])


class Objectifs(BaseModel):
    entrees: int
    file_active: int
    taux_sorties_positives: Decimal
    partenariats_par_binome: int


class ConventionRegles(BaseModel):
    renouvellements_max: int = 2


class ComiteRegles(BaseModel):
    delai_reponse_jours: int = 15  # an ajourné porteur's time to answer the questions


class SuiviRegles(BaseModel):
    """When the porteur reports: mid-term and final budget situation + bilan, each due some days after."""

    mi_parcours_mois: int = 6
    delai_mi_parcours_jours: int = 30
    delai_final_jours: int = 60
    demande_jours_avant: int = 15
    relances_jours_apres: list[int] = Field(default_factory=lambda: [7, 21])
    seuil_vert: Decimal = Decimal("0.9")    # share of the pro-rata objective reached
    seuil_orange: Decimal = Decimal("0.7")


class PiecesRegles(BaseModel):
    extensions_formulaire: list[str]
    extensions_cv: list[str]
    extensions_autres: list[str]
    taille_max_octets: int


class ConservationRegles(BaseModel):
    """How long each kind of personal data is kept (RGPD), in whole years; each duration must be given."""

    non_retenus_annees: int = Field(ge=0)     # pièces of a dossier not retained, from its (last) comité
    fse_annees: int = Field(ge=0)             # a convention co-funded by the FSE, from 31 December of the last payment's year
    sans_fse_annees: int = Field(ge=0)        # a convention without FSE, from the end of its last year
    contacts_annees: int = Field(ge=0)        # contacts of a structure with nothing in progress, from its last activity


class AppelConfig(BaseModel):
    appel: AppelSection
    calendrier: Calendrier
    commande: Commande
    objectifs: Objectifs
    convention: ConventionRegles
    pieces: PiecesRegles
    comite: ComiteRegles = Field(default_factory=ComiteRegles)
    suivi: SuiviRegles = Field(default_factory=SuiviRegles)
    conservation: ConservationRegles | None = None  # absent: nothing of this call is ever purged

    @property
    def annee(self) -> int:
        return self.appel.annee

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.appel.fuseau)

    def date_limite_utc(self) -> datetime:
        """The deadline, read in the call's time zone, as an aware UTC datetime."""
        local = self.calendrier.date_limite.replace(tzinfo=self.tz)
        return local.astimezone(timezone.utc)

    def publication_utc(self) -> datetime:
        start = datetime.combine(self.calendrier.publication, datetime.min.time(), self.tz)
        return start.astimezone(timezone.utc)


def load_appel_config(source: Path | str | int) -> AppelConfig:
    """Load a call from a TOML path, or from its year (``2018`` → ``config/appels/2018.toml``)."""
    path = CONFIG_DIR / f"{source}.toml" if isinstance(source, int) or str(source).isdigit() else Path(source)
    if not path.is_file():
        raise ConfigurationIllisible(f"configuration de l'appel introuvable : {path}")
    try:
        with path.open("rb") as fh:
            return AppelConfig.model_validate(tomllib.load(fh))
    except OSError as exc:
        raise ConfigurationIllisible(f"configuration de l'appel illisible : {path} (accès refusé)") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationIllisible(f"configuration de l'appel mal écrite : {path} (ce n'est pas du TOML valide)") from exc
    except ValidationError as exc:
        champs = ", ".join(".".join(str(part) for part in e["loc"]) + _probleme(e["type"]) for e in exc.errors()[:5])
        raise ConfigurationIllisible(f"configuration de l'appel incomplète ou erronée : {path} (champs : {champs})") from exc


_PROBLEMES = {"missing": "manquant", "greater_than_equal": "négatif : une durée est positive ou nulle",
              "int_parsing": "pas un nombre entier", "int_from_float": "pas un nombre entier",
              "extra_forbidden": "inconnu"}


def _probleme(kind: str) -> str:
    """What is wrong with one field, in French (`` (manquant)``), when pydantic's kind of error is a known one."""
    return f" ({_PROBLEMES[kind]})" if kind in _PROBLEMES else ""


class ConfigurationIllisible(Refus):
    """The call's configuration file is missing, unreadable or wrong (French reason)."""
