"""The SA's back office: FastAPI routes that are views over ``actions/`` and ``models/``, one Jinja2 page each.

A GET loads with the read functions the command line uses and renders one page. A POST passes one
dependency (``gestion``: a session, the CSRF field of that session, the role that may act), calls the
same stage or action as the matching ``aap`` command, then redirects (POST → redirect → GET) with what
it said; a ``Refus`` is shown on the page with status 409 (400 for a form filled wrong) and nothing is done.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.datastructures import UploadFile

from actions import consultation as lire
from actions import utilisateurs as comptes
from config.refus import Refus
from flows.passage import ACTEUR
from flows.runtime import PARIS, Runtime, runtime
from francais.formats import compte, format_date, format_datetime_paris, format_decimal_fr, format_euros, format_taille
from web import securite

log = logging.getLogger("aap.web")
HERE = Path(__file__).resolve().parent
TELEVERSEMENT_MAX = 25 * 1024 * 1024  # one uploaded file; the call's own size rule then judges each pièce


class NonConnecte(Exception):
    """No open session: every page but /connexion and /sante answers 303 to /connexion."""


class Interdit(Exception):
    """403: a POST without this session's CSRF field, or from an account that may not act."""

    def __init__(self, raison: str):
        super().__init__(raison)
        self.raison = raison


@dataclass(frozen=True)
class Geste:
    """A POST that may act: who, and the form it sent (its CSRF field checked)."""

    acces: comptes.Acces
    form: Any


class FormulaireInvalide(Refus):
    """A field filled wrong (a date that is not one, a missing file): 400."""


# --------------------------------------------------------------------------- formats for the pages


def _moment(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return value


def jour(value: Any) -> str:
    v = _moment(value)
    return "—" if v is None else format_date(v)


def moment(value: Any) -> str:
    v = _moment(value)
    if v is None:
        return "—"
    return format_datetime_paris(v) if isinstance(v, datetime) else format_date(v)


def euros(value: Any) -> str:
    from decimal import Decimal

    return "—" if value is None else format_euros(Decimal(str(value)))


def decimal(value: Any) -> str:
    from decimal import Decimal

    return "—" if value is None else format_decimal_fr(Decimal(str(value)))


def taille(value: int | None) -> str:
    return "—" if value is None else format_taille(int(value))


# The tableau de bord's « à traiter » lines name what they count in the plural (``actions.consultation.dashboard``);
# one of them is said in the singular. A line missing here stays plural (and its test says so).
SINGULIERS = {
    "dépôts non identifiés": "dépôt non identifié",
    "dépôts ou bilans à vérifier": "dépôt ou bilan à vérifier",
    "dossiers incomplets": "dossier incomplet",
    "dossiers hors délai à admettre ou non": "dossier hors délai à admettre ou non",
    "décisions du comité à enregistrer": "décision du comité à enregistrer",
    "conventions ou avenants à signer": "convention ou avenant à signer",
    "conventions échues, bilan final à obtenir": "convention échue, bilan final à obtenir",
    "bilans en retard": "bilan en retard",
    "bilans à corriger": "bilan à corriger",
    "courriels en échec": "courriel en échec",
    "courriels en attente d'envoi": "courriel en attente d'envoi",
}


def nombre_de(n: int, pluriel: str, singulier: str | None = None) -> Markup:
    """``francais.formats.compte`` with the number in bold: « <strong>1</strong> dépôt non identifié »."""
    texte = compte(n, singulier or SINGULIERS.get(pluriel, pluriel), pluriel)
    chiffre, _, quoi = texte.partition(" ")  # the number's own groups are narrow no-break spaces
    return Markup("<strong>{}</strong> {}").format(chiffre, quoi)


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "pages"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(jour=jour, moment=moment, euros=euros, decimal=decimal, taille=taille, compte=compte, nombre_de=nombre_de)
    return env


# --------------------------------------------------------------------------- the application


def create_app(rt: Runtime | None = None, *, horloge: Callable[[], datetime] | None = None) -> FastAPI:
    """The back office over ``rt`` (this process's runtime by default); ``horloge`` is its clock (tests fix it)."""
    rt = rt or runtime()
    horloge = horloge or (lambda: datetime.now(timezone.utc))
    key = securite.secret_key(rt.settings)
    inactivite = timedelta(hours=rt.settings.web_session_heures)
    env = environment()
    app = FastAPI(title="Back office du PLIE", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    factory = rt.factory

    # ---- helpers

    def now() -> datetime:
        return horloge()

    def today() -> date:
        return now().astimezone(PARIS).date()

    def render(request: Request, name: str, acces: comptes.Acces | None, *, status: int = 200,
             erreur: str | list[str] | None = None, **context: Any) -> HTMLResponse:
        with factory() as session:
            annees = lire.appel_years(session) if acces is not None else []
        html = env.get_template(name).render(
            request=request, acces=acces, annees=annees, annee_menu=annees[0] if annees else None,
            message=acces.message if acces else None, erreurs=[erreur] if isinstance(erreur, str) else (erreur or []),
            chemin=request.url.path, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def back(acces: comptes.Acces, url: str, message: str) -> RedirectResponse:
        comptes.say(factory, acces.session_id, message)
        return RedirectResponse(url, status_code=303)

    @contextmanager
    def acting(acces: comptes.Acces) -> Iterator[None]:
        """Every change made here names the signed-in account: on the passage row of a stage, and on one
        ``action_utilisateur`` row per row changed, in the change's own transaction (``adapters.auteurs``)."""
        token = ACTEUR.set(acces.identifiant)
        try:
            yield
        finally:
            ACTEUR.reset(token)

    def did(acces: comptes.Acces, what: str) -> None:
        """An action called directly (no stage, so no passage row): who did it goes to the log, in French."""
        log.info("Back office : %s, par « %s ».", what, acces.identifiant)

    # ---- who is there

    def lecteur(request: Request) -> comptes.Acces:
        acces = comptes.find_session(factory, request.cookies.get(securite.SESSION_COOKIE), maintenant=now(),
                                     inactivite_max=inactivite)
        if acces is None:
            raise NonConnecte()
        return acces

    async def gestion(request: Request, acces: comptes.Acces = Depends(lecteur)) -> Geste:
        form = await request.form(max_files=50, max_fields=200)
        if not securite.same(form.get("csrf"), acces.csrf):
            raise Interdit("jeton de formulaire absent ou périmé : rechargez la page et recommencez")
        if not acces.peut_agir:
            raise Interdit("votre compte est en lecture seule : il ne peut rien modifier")
        return Geste(acces, form)

    @app.exception_handler(NonConnecte)
    async def _to_sign_in(request: Request, exc: NonConnecte) -> Response:
        response = RedirectResponse("/connexion", status_code=303)
        if request.cookies.get(securite.SESSION_COOKIE):
            response.delete_cookie(securite.SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(Interdit)
    async def _forbidden(request: Request, exc: Interdit) -> Response:
        html = env.get_template("erreur.html").render(
            request=request, acces=None, annees=[], annee_menu=None, message=None, erreurs=[], chemin="",
            titre="Action refusée", texte=f"Action refusée : {exc.raison}. Rien n'a été modifié.")
        return HTMLResponse(html, status_code=403)

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: Exception) -> Response:
        html = env.get_template("erreur.html").render(
            request=request, acces=None, annees=[], annee_menu=None, message=None, erreurs=[], chemin="",
            titre="Page introuvable", texte="Cette page n'existe pas.")
        return HTMLResponse(html, status_code=404)

    @app.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> Response:
        log.error("Back office : erreur inattendue (%s) sur %s %s.", type(exc).__name__, request.method,
                  request.url.path, exc_info=exc)
        html = env.get_template("erreur.html").render(
            request=request, acces=None, annees=[], annee_menu=None, message=None, erreurs=[], chemin="",
            titre="Erreur inattendue",
            texte="Erreur inattendue : l'action n'a peut-être pas abouti. Le détail technique est dans le journal du serveur.")
        return HTMLResponse(html, status_code=500)

    # ---- without a session

    @app.get("/sante", response_class=PlainTextResponse)
    def sante() -> PlainTextResponse:
        try:
            with factory() as session:
                lire.database_ready(session)
        except Exception:  # noqa: BLE001 - the answer says no more than « not ready »
            return PlainTextResponse("indisponible", status_code=503)
        return PlainTextResponse("ok")

    @app.get("/connexion")
    def connexion_form(request: Request) -> Response:
        if comptes.find_session(factory, request.cookies.get(securite.SESSION_COOKIE), maintenant=now(),
                                inactivite_max=inactivite) is not None:
            return RedirectResponse("/", status_code=303)
        return _sign_in_page(request)

    def _sign_in_page(request: Request, *, erreur: str | None = None, identifiant: str = "",
                      status: int = 200) -> Response:
        import secrets as _secrets

        nonce = request.cookies.get(securite.PRE_COOKIE) or _secrets.token_urlsafe(24)
        html = env.get_template("connexion.html").render(
            request=request, acces=None, annees=[], annee_menu=None, message=None, chemin="/connexion", titre="Connexion",
            erreurs=[erreur] if erreur else [], csrf=securite.sign_in_token(key, nonce), identifiant=identifiant)
        response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
        response.set_cookie(securite.PRE_COOKIE, nonce, httponly=True, samesite="lax", path="/connexion",
                            secure=request.url.scheme == "https")
        return response

    async def champs(request: Request) -> Any:
        return await request.form(max_files=0, max_fields=10)

    @app.post("/connexion")
    def connexion(request: Request, form: Any = Depends(champs)) -> Response:
        if not securite.sign_in_token_ok(key, request.cookies.get(securite.PRE_COOKIE), form.get("csrf")):
            raise Interdit("jeton du formulaire de connexion absent ou périmé : rechargez la page")
        identifiant = str(form.get("identifiant") or "")
        try:
            token, _ = comptes.sign_in(factory, identifiant, str(form.get("mot_de_passe") or ""), maintenant=now())
        except comptes.ConnexionRefusee as exc:
            return _sign_in_page(request, erreur=f"Connexion refusée : {exc}.", identifiant=identifiant[:60], status=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(securite.SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https")
        response.delete_cookie(securite.PRE_COOKIE, path="/connexion")
        return response

    @app.post("/deconnexion")
    def deconnexion(request: Request, acces: comptes.Acces = Depends(lecteur), form: Any = Depends(champs)) -> Response:
        if not securite.same(form.get("csrf"), acces.csrf):
            raise Interdit("jeton de formulaire absent ou périmé : rechargez la page et recommencez")
        comptes.close_session(factory, acces.session_id)
        log.info("Déconnexion de « %s ».", acces.identifiant)
        response = RedirectResponse("/connexion", status_code=303)
        response.delete_cookie(securite.SESSION_COOKIE, path="/")
        return response

    # ---- tableau de bord

    @app.get("/")
    def tableau_de_bord(request: Request, acces: comptes.Acces = Depends(lecteur)) -> Response:
        with factory() as session:
            data = lire.dashboard(session, aujourd_hui=today())
        return render(request, "tableau.html", acces, titre="Tableau de bord", data=data, aujourd_hui=today())

    # ---- dossiers

    @app.get("/appels/{annee}/dossiers")
    def dossiers(request: Request, annee: int, statut: str = "", canal: str = "", hors_delai: str = "", avis: str = "",
                 decision: str = "", q: str = "", page: str = "1", acces: comptes.Acces = Depends(lecteur)) -> Response:
        page_ = int(page) if page.isdigit() else 1
        filtres = lire.Filtres(statut=statut, canal=canal, hors_delai=hors_delai, avis=avis, decision=decision,
                               recherche=q[:200])
        try:
            with factory() as session:
                data = lire.search_dossiers(session, annee, filtres, page=page_)
        except ValueError:  # a filter value no list offers
            return render(request, "erreur.html", acces, status=400, titre="Filtre inconnu",
                        texte="Un filtre de la liste a une valeur inconnue.")
        except Refus as exc:
            return render(request, "erreur.html", acces, status=404, titre="Appel inconnu", texte=f"{exc}.")
        params = {k: v for k, v in {"statut": statut, "canal": canal, "hors_delai": hors_delai, "avis": avis,
                                     "decision": decision, "q": q}.items() if v}
        return render(request, "dossiers.html", acces, titre=f"Dossiers de l'appel {annee}", annee=annee, data=data,
                    filtres=filtres, params=params, lien=lambda p: f"?{urlencode({**params, 'page': p})}")

    def dossier_page(request: Request, acces: comptes.Acces, annee: int, numero: str, *, status: int = 200,
                     erreur: str | None = None) -> Response:
        try:
            with factory() as session:
                d = lire.dossier_detail(session, annee, numero)
        except Refus as exc:
            return render(request, "erreur.html", acces, status=404, titre="Dossier introuvable", texte=f"{exc}.")
        return render(request, "dossier.html", acces, status=status, erreur=erreur,
                    titre=f"Dossier {d['numero']} — {d['structure']['nom']}", d=d)

    @app.get("/appels/{annee}/dossiers/{numero}")
    def dossier(request: Request, annee: int, numero: str, acces: comptes.Acces = Depends(lecteur)) -> Response:
        return dossier_page(request, acces, annee, numero)

    @app.post("/appels/{annee}/dossiers/{numero}/admettre")
    def admettre(request: Request, annee: int, numero: str, geste: Geste = Depends(gestion)) -> Response:
        acces, form = geste.acces, geste.form
        from actions.instruction import admit_late_dossier

        try:
            with acting(acces):
                admission = admit_late_dossier(factory, annee, numero, str(form.get("motif") or ""), maintenant=now())
        except Refus as exc:
            return dossier_page(request, acces, annee, numero, status=409, erreur=f"Refusé : {exc}.")
        did(acces, f"dossier {numero} admis à l'instruction")
        return back(acces, f"/appels/{annee}/dossiers/{numero}", admission.message[0].upper() + admission.message[1:] + ".")

    # ---- dépôts en attente

    def attente_page(request: Request, acces: comptes.Acces, annee: int, *, status: int = 200,
                     erreur: str | None = None) -> Response:
        try:
            with factory() as session:
                entries = lire.waiting_entries(session, annee)
        except Refus as exc:
            return render(request, "erreur.html", acces, status=404, titre="Appel inconnu", texte=f"{exc}.")
        return render(request, "attente.html", acces, status=status, erreur=erreur,
                    titre=f"Dépôts en attente — appel {annee}", annee=annee, entries=entries)

    @app.get("/appels/{annee}/depots-en-attente")
    def attente(request: Request, annee: int, acces: comptes.Acces = Depends(lecteur)) -> Response:
        return attente_page(request, acces, annee)

    @app.post("/appels/{annee}/depots-en-attente/{reference}/rattacher")
    def rattacher(request: Request, annee: int, reference: str, geste: Geste = Depends(gestion)) -> Response:
        acces, form = geste.acces, geste.form
        from flows.depots import rattachement_depot

        if not reference.isdigit():
            return attente_page(request, acces, annee, status=400, erreur="Seul un dépôt se rattache à une structure.")
        nom = " ".join(str(form.get("nom") or "").split()) or None
        try:
            with acting(acces):
                result = rattachement_depot(annee, int(reference), str(form.get("siret") or ""), nom, now().isoformat())
        except Refus as exc:
            return attente_page(request, acces, annee, status=409, erreur=f"Refusé : {exc}.")
        r = result["depot"]
        return back(acces, f"/appels/{annee}/depots-en-attente",
                    f"Dépôt n° {r['depot']} rattaché au dossier {r['dossier']}." + _mail_line(result["courriels"]))

    @app.post("/appels/{annee}/depots-en-attente/{reference}/confirmer")
    def confirmer(request: Request, annee: int, reference: str, geste: Geste = Depends(gestion)) -> Response:
        acces = geste.acces
        from flows.depots import confirmation_depot

        try:
            with acting(acces):
                result = confirmation_depot(annee, reference, now().isoformat())
        except Refus as exc:
            return attente_page(request, acces, annee, status=409, erreur=f"Refusé : {exc}.")
        c = result["confirme"]
        said = (f"Dépôt n° {c['depot']} confirmé : complément du dossier {c['dossier']}." if c["depot"] is not None
                else f"Bilan n° {c['bilan']} confirmé : rattaché à sa convention.")
        return back(acces, f"/appels/{annee}/depots-en-attente", said + _mail_line(result["courriels"]))

    @app.post("/appels/{annee}/depots-en-attente/{reference}/rejeter")
    def rejeter(request: Request, annee: int, reference: str, geste: Geste = Depends(gestion)) -> Response:
        acces, form = geste.acces, geste.form
        from actions.attente import reject_waiting

        try:
            with acting(acces):
                said = reject_waiting(factory, annee, reference, motif=str(form.get("motif") or ""), maintenant=now())
        except Refus as exc:
            return attente_page(request, acces, annee, status=409, erreur=f"Refusé : {exc}.")
        did(acces, f"{'dépôt' if reference.isdigit() else 'bilan'} n° {reference} rejeté")
        return back(acces, f"/appels/{annee}/depots-en-attente", said)

    # ---- courrier (postal dépôt)

    def courrier_page(request: Request, acces: comptes.Acces, annee: int, *, status: int = 200,
                      erreur: str | None = None, saisie: dict | None = None) -> Response:
        with factory() as session:
            if annee not in lire.appel_years(session):
                return render(request, "erreur.html", acces, status=404, titre="Appel inconnu",
                            texte=f"L'appel {annee} n'est pas publié.")
        return render(request, "courrier.html", acces, status=status, erreur=erreur, titre=f"Courrier reçu — appel {annee}",
                    annee=annee, saisie=saisie or {})

    @app.get("/appels/{annee}/courrier")
    def courrier(request: Request, annee: int, acces: comptes.Acces = Depends(lecteur)) -> Response:
        return courrier_page(request, acces, annee)

    @app.post("/appels/{annee}/courrier")
    def courrier_enregistrer(request: Request, annee: int, geste: Geste = Depends(gestion)) -> Response:
        acces, form = geste.acces, geste.form
        from flows.depots import depot_postal

        saisie = {"siret": str(form.get("siret") or "")[:40], "nom": str(form.get("nom") or "")[:200],
                  "recu_le": str(form.get("recu_le") or "")[:20]}
        uploads = [f for f in form.getlist("fichiers") if isinstance(f, UploadFile) and f.filename]
        try:
            recu_le = _paris_moment(saisie["recu_le"], "date du cachet d'arrivée")
            if not uploads:
                raise FormulaireInvalide("joignez au moins une pièce numérisée")
            with _uploaded(uploads) as paths, acting(acces):
                result = depot_postal(annee, saisie["siret"], recu_le, [str(p) for p in paths],
                                      " ".join(saisie["nom"].split()) or None, now().isoformat())
        except FormulaireInvalide as exc:
            return courrier_page(request, acces, annee, status=400, erreur=f"Refusé : {exc}.", saisie=saisie)
        except Refus as exc:
            return courrier_page(request, acces, annee, status=409, erreur=f"Refusé : {exc}.", saisie=saisie)
        label = {"doublon": "déjà enregistré (rien de nouveau)", "hors_delai": "enregistré hors délai"}
        d = result["depot"]
        return back(acces, f"/appels/{annee}/courrier",
                    f"Dépôt postal n° {d['depot']} : {label.get(d['resultat'], 'enregistré')}." + _mail_line(result["courriels"]))

    # ---- comité

    def comite_page(request: Request, acces: comptes.Acces, annee: int, *, status: int = 200,
                    erreur: str | list[str] | None = None, problemes: list[str] | None = None) -> Response:
        try:
            with factory() as session:
                packs = lire.comites(session, annee)
                a_decider = lire.search_dossiers(session, annee, lire.Filtres(statut="instruit"), par_page=500)
        except Refus as exc:
            return render(request, "erreur.html", acces, status=404, titre="Appel inconnu", texte=f"{exc}.")
        return render(request, "comite.html", acces, status=status, erreur=erreur, titre=f"Comité de pilotage — appel {annee}",
                    annee=annee, packs=packs, a_decider=a_decider, problemes=problemes or [])

    @app.get("/appels/{annee}/comite")
    def comite(request: Request, annee: int, acces: comptes.Acces = Depends(lecteur)) -> Response:
        return comite_page(request, acces, annee)

    @app.post("/appels/{annee}/comite/preparer")
    def comite_preparer(request: Request, annee: int, geste: Geste = Depends(gestion)) -> Response:
        acces, form = geste.acces, geste.form
        from flows.comite import preparation_comite

        try:
            comite_le = _day(str(form.get("date_comite") or ""), "date du comité", facultatif=True)
            with acting(acces):
                result = preparation_comite(annee, comite_le, None, now().isoformat())
        except FormulaireInvalide as exc:
            return comite_page(request, acces, annee, status=400, erreur=f"Refusé : {exc}.")
        except Refus as exc:
            return comite_page(request, acces, annee, status=409, erreur=f"Refusé : {exc}.")
        return back(acces, f"/appels/{annee}/comite",
                    f"Dossier de séance du comité du {jour(result['comite_le'])} prêt : "
                    f"{compte(len(result['dossiers']), 'dossier', 'dossiers')} à décider.")

    @app.post("/appels/{annee}/comite/decisions")
    def comite_decisions(request: Request, annee: int, geste: Geste = Depends(gestion)) -> Response:
        acces, form = geste.acces, geste.form
        from actions.comite import DecisionsRefusees
        from flows.comite import decisions_comite

        upload = form.get("fichier")
        try:
            date_comite = _day(str(form.get("date_comite") or ""), "date du comité", facultatif=True)
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise FormulaireInvalide("joignez la synthèse remplie en séance (.xlsx)")
            with _uploaded([upload]) as [path], acting(acces):
                result = decisions_comite(annee, str(path), date_comite, now().isoformat())
        except DecisionsRefusees as exc:
            return comite_page(request, acces, annee, status=400, problemes=exc.problemes,
                               erreur="Fichier refusé : aucune décision enregistrée, aucun courriel envoyé.")
        except FormulaireInvalide as exc:
            return comite_page(request, acces, annee, status=400, erreur=f"Refusé : {exc}.")
        except Refus as exc:
            return comite_page(request, acces, annee, status=409, erreur=f"Refusé : {exc}.")
        said = (f"Décisions enregistrées : {len(result['enregistrees'])} ; déjà enregistrées : {len(result['inchangees'])} ; "
                f"lettres rédigées : {result['lettres']}.")
        if result["en_attente"]:
            said += " Ajournés sans décision, en attente de leur réponse : " + ", ".join(result["en_attente"]) + "."
        for avertissement in result["avertissements"]:
            said += f" Avertissement : {avertissement}."
        return back(acces, f"/appels/{annee}/comite", said + _mail_line(result["courriels"]))

    # ---- conventions

    @app.get("/conventions")
    def conventions(request: Request, acces: comptes.Acces = Depends(lecteur)) -> Response:
        from actions.conventions import list_conventions

        with factory() as session:
            rows = list_conventions(session, aujourd_hui=today())
        return render(request, "conventions.html", acces, titre="Conventions", rows=rows, aujourd_hui=today())

    def convention_page(request: Request, acces: comptes.Acces, numero: str, *, status: int = 200,
                        erreur: str | None = None) -> Response:
        try:
            with factory() as session:
                c = lire.convention_detail(session, numero, aujourd_hui=today())
        except Refus as exc:
            return render(request, "erreur.html", acces, status=404, titre="Convention introuvable", texte=f"{exc}.")
        return render(request, "convention.html", acces, status=status, erreur=erreur,
                    titre=f"Convention {c['numero']} — {c['porteur']}", c=c, aujourd_hui=today())

    @app.get("/conventions/{numero}")
    def convention(request: Request, numero: str, acces: comptes.Acces = Depends(lecteur)) -> Response:
        return convention_page(request, acces, numero)

    @app.post("/conventions/{numero}/renouveler")
    def renouveler(request: Request, numero: str, geste: Geste = Depends(gestion)) -> Response:
        acces, form = geste.acces, geste.form
        from flows.conventions import avenant_prolongation

        try:
            valide_le = _day(str(form.get("valide_le") or ""), "date de validation")
            instance = " ".join(str(form.get("instance") or "").split()) or None
            with acting(acces):
                result = avenant_prolongation(numero, valide_le, instance, now().isoformat())
        except FormulaireInvalide as exc:
            return convention_page(request, acces, numero, status=400, erreur=f"Refusé : {exc}.")
        except Refus as exc:
            return convention_page(request, acces, numero, status=409, erreur=f"Refusé : {exc}.")
        if result["refus"]:
            return convention_page(request, acces, numero, status=409,
                                   erreur=f"Renouvellement refusé : {result['refus']}.")
        if result["deja"]:
            return back(acces, f"/conventions/{numero}", f"Demande déjà traitée : {result['deja']}.")
        return back(acces, f"/conventions/{numero}", f"Avenant {result['avenant']} établi et envoyé pour signature."
                    + _mail_line(result["courriels"]))

    @app.post("/conventions/{numero}/modifier")
    def modifier(request: Request, numero: str, geste: Geste = Depends(gestion)) -> Response:
        """``aap avenant modifier``: each field holds its « CLÉ=VALEUR » lines, read by the command's own function."""
        acces, form = geste.acces, geste.form
        from flows.conventions import avenant_modification, read_modification

        def lines(field: str) -> list[str]:
            return [line.strip() for line in str(form.get(field) or "").splitlines() if line.strip()]

        try:
            valide_le = _day(str(form.get("valide_le") or ""), "date de validation")
            instance = " ".join(str(form.get("instance") or "").split()) or None
            changes = read_modification(montants=lines("montants"), etp=lines("etp"), salaires=lines("salaires"),
                                        remplacements=lines("remplacements"))
            with acting(acces):
                result = avenant_modification(numero, changes, valide_le, instance, now().isoformat())
        except FormulaireInvalide as exc:
            return convention_page(request, acces, numero, status=400, erreur=f"Refusé : {exc}.")
        except Refus as exc:
            return convention_page(request, acces, numero, status=409, erreur=f"Refusé : {exc}.")
        if result["refus"]:
            return convention_page(request, acces, numero, status=409, erreur=f"Modification refusée : {result['refus']}.")
        if result["deja"]:
            return back(acces, f"/conventions/{numero}", f"Demande déjà traitée : {result['deja']}.")
        return back(acces, f"/conventions/{numero}", f"Avenant {result['avenant']} établi et envoyé pour signature."
                    + _mail_line(result["courriels"]))

    @app.post("/conventions/{numero}/signer")
    def signer(request: Request, numero: str, geste: Geste = Depends(gestion)) -> Response:
        acces, form = geste.acces, geste.form
        from actions.conventions import sign

        signe = str(form.get("numero") or numero).strip()
        if signe != numero and not signe.startswith(f"{numero}-A"):
            return convention_page(request, acces, numero, status=400,
                                   erreur="Refusé : ce numéro n'est ni cette convention ni l'un de ses avenants.")
        try:
            le = date.fromisoformat(_day(str(form.get("le") or ""), "date de signature"))
            with acting(acces):
                said = sign(factory, signe, le=le)
        except FormulaireInvalide as exc:
            return convention_page(request, acces, numero, status=400, erreur=f"Refusé : {exc}.")
        except Refus as exc:
            return convention_page(request, acces, numero, status=409, erreur=f"Refusé : {exc}.")
        did(acces, f"signature de {signe} enregistrée")
        return back(acces, f"/conventions/{numero}", said + ".")

    # ---- échéancier, courriels

    @app.get("/echeancier")
    def echeancier(request: Request, acces: comptes.Acces = Depends(lecteur)) -> Response:
        with factory() as session:
            rows = lire.echeancier(session, aujourd_hui=today())
        return render(request, "echeancier.html", acces, titre="Échéancier des bilans", rows=rows, aujourd_hui=today())

    statuts_courriel = {"en-attente": "pending", "en-cours": "sending", "envoye": "sent", "en-echec": "failed"}

    @app.get("/courriels")
    def courriels(request: Request, statut: str = "", acces: comptes.Acces = Depends(lecteur)) -> Response:
        from actions.outbox import count_courriels, list_courriels
        from models.courriel import CourrielStatut

        if statut and statut not in statuts_courriel:
            return render(request, "erreur.html", acces, status=400, titre="Filtre inconnu", texte="Statut de courriel inconnu.")
        numero, par_page = request.query_params.get("page", "1"), 100
        choisi = CourrielStatut(statuts_courriel[statut]) if statut else None
        with factory() as session:
            total = count_courriels(session, choisi)
            pages = max(1, -(-total // par_page))
            current = min(max(1, int(numero) if numero.isdigit() else 1), pages)
            rows = list_courriels(session, choisi, recents_d_abord=True, limite=par_page, decalage=(current - 1) * par_page)
        return render(request, "courriels.html", acces, titre="Courriels", statut=statut, total=total, page_=current,
                    pages=pages, rows=rows,
                    lien=lambda p: "?" + urlencode({**({"statut": statut} if statut else {}), "page": p}))

    @app.post("/courriels/{ident}/renvoyer")
    def renvoyer(request: Request, ident: int, geste: Geste = Depends(gestion)) -> Response:
        acces = geste.acces
        from actions.outbox import retry_failed
        from flows.mail import envoi_courriels

        try:
            with acting(acces):
                said = retry_failed(factory, ident)
                did(acces, f"courriel n° {ident} remis en file d'envoi")
                result = envoi_courriels()
        except Refus as exc:
            return back(acces, "/courriels?statut=en-echec", f"Refusé : {exc}.")
        return back(acces, "/courriels", said + "." + _mail_line(result["courriels"]))

    # ---- downloads

    @app.get("/telecharger/{nature}/{ident}")
    def telecharger(nature: str, ident: int, acces: comptes.Acces = Depends(lecteur)) -> Response:
        try:
            with factory() as session:
                f = lire.stored_file(session, rt.storage.root, nature, ident)
        except lire.FichierIntrouvable:
            return PlainTextResponse("Fichier introuvable.", status_code=404)
        except lire.FichierSupprime as exc:  # gone with its retention period: said, with when and why
            return PlainTextResponse(str(exc), status_code=410)
        log.info("Back office : téléchargement %s n° %s par « %s ».", nature, ident, acces.identifiant)
        return FileResponse(f.chemin, media_type=f.type_mime, filename=f.nom, content_disposition_type="attachment",
                            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    return app


# --------------------------------------------------------------------------- form values


def _mail_line(report: dict) -> str:
    """The outbox's figures after a stage, as the command line says them (an unsent mail said in French)."""
    from actions.passages import mail_problem

    problem = mail_problem(report)
    return f" Courriels envoyés : {report['envoyes']}." + (f" Attention : {problem}" if problem else "")


def _paris_moment(value: str, quoi: str) -> str:
    """A ``datetime-local`` field (Paris time) as the ISO text the stages take."""
    try:
        moment_ = datetime.fromisoformat(value)
    except ValueError:
        raise FormulaireInvalide(f"{quoi} : « {value[:20]} » n'est pas une date et une heure") from None
    if moment_.tzinfo is None:
        moment_ = moment_.replace(tzinfo=PARIS)
    return moment_.isoformat()


def _day(value: str, quoi: str, *, facultatif: bool = False) -> str | None:
    if not value and facultatif:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise FormulaireInvalide(f"{quoi} : « {value[:20]} » n'est pas une date") from None


def safe_name(filename: str, rang: int) -> str:
    """The uploaded file's own name, as the call's rules read it (a CV is found by its name), made harmless:
    no folder, no control or invisible character, no leading dot, 150 characters at most."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return name[-150:] or f"piece-{rang}"


@contextmanager
def _uploaded(uploads: list[UploadFile]) -> Iterator[list[Path]]:
    """The uploads written to a private folder under their harmless names, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="aap-televersement-"))
    try:
        paths, seen = [], set()
        for rang, upload in enumerate(uploads, 1):
            name = safe_name(upload.filename or "", rang)
            if name.lower() in seen:
                name = f"{rang}-{name}"
            seen.add(name.lower())
            target = folder / name
            size = 0
            with target.open("wb") as out:
                upload.file.seek(0)
                while chunk := upload.file.read(1024 * 1024):
                    size += len(chunk)
                    if size > TELEVERSEMENT_MAX:
                        raise FormulaireInvalide(f"fichier « {name} » trop volumineux (25 Mo au plus)")
                    out.write(chunk)
            paths.append(target)
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class SecurityHeaders:
    """Every answer: no framing, no sniffing, no referrer outside, scripts and styles from this site only."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                     b"form-action 'self'; base-uri 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *self.HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
