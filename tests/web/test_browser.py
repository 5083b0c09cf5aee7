"""The SA's journeys in a real Chromium (Debian's, driven by Playwright) against the real server (uvicorn) on a
real database: sign in, tableau de bord, a dossier in two clicks and its attestation downloaded, a waiting dépôt
rattaché, a decisions workbook with one error refused with that error named, a convention at 2/2 refusing its
third renewal. A failing test leaves a screenshot (its path is printed)."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from adapters.smtp_sink import SmtpSink

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright absent (pip install -e .[test])")
CHROMIUM = os.environ.get("AAP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium absent (apt-get install chromium)")
UTC = timezone.utc
HORLOGE = datetime(2020, 11, 12, 17, 0, tzinfo=UTC)
MOT_DE_PASSE = "un mot de passe de test"
CAPTURES = Path(os.environ.get("AAP_CAPTURES", Path(__file__).resolve().parents[2] / "var" / "captures-navigateur"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def serveur(tmp_path_factory):
    """The 2018 call: 2018-001 retained, signed and renewed twice; 2018-002 not retained; a dépôt no one can
    place; an account « sa ». Served by uvicorn on a free port, its clock on 12 November 2020."""
    import uvicorn

    from actions.comite import prepare_comite, record_decisions
    from actions.conventions import establish_conventions, prolong, sign
    from actions.instruction import instruct_appel
    from actions.publication import publish_appel
    from actions.utilisateurs import add_user
    from adapters.smtp import MailSettings
    from config.appel_config import load_appel_config
    from flows import runtime as runtime_module
    from flows.runtime import configure, get_settings
    from forms.synthese import fill_decisions
    from models.utilisateur import Role
    from tests.conftest import PUBLICATION, run_intake
    from tests.samples import deliver, deliver_complete, paris, porteur
    from web.app import create_app

    tmp = tmp_path_factory.mktemp("navigateur")
    previous = runtime_module._current
    with SmtpSink(tmp / "sink") as sink:
        rt = configure(get_settings().model_copy(update={
            "database_url": f"sqlite:///{tmp}/aap.sqlite", "storage_dir": tmp / "storage", "pdf": "off",
            "smtp_host": "127.0.0.1", "smtp_port": sink.port, "web_secret": "clé de test du navigateur"}))
        mail = MailSettings(host="127.0.0.1", port=sink.port, sender="PLIE <plie@example.org>")
        publish_appel(rt.factory, rt.storage, load_appel_config(2018), maintenant=PUBLICATION)
        deliver_complete(tmp / "boite", tmp / "forms", porteur(1, nom="Atelier <b>Vélo</b> & Cie"), paris(6, 10))
        deliver_complete(tmp / "boite", tmp / "forms", porteur(2), paris(6, 11))
        deliver(tmp / "boite", sender="inconnu@example.org", when=paris(6, 12), message_id="<inconnu@example.org>",
                attachments=[("lettre.pdf", b"%PDF-1.4\n%%EOF\n")])
        run_intake(rt.factory, rt.storage, tmp / "boite", mail)
        instruct_appel(rt.factory, rt.storage, 2018, maintenant=datetime(2017, 12, 8, 13, tzinfo=UTC), pdf=False)
        pack = prepare_comite(rt.factory, rt.storage, 2018, comite_le=None, sortie=None,
                              maintenant=datetime(2017, 12, 9, 9, tzinfo=UTC))
        choix = {"2018-001": ("Retenu", ""), "2018-002": ("Non retenu", "Hors cible.")}
        record_decisions(rt.factory, 2018, fill_decisions(pack.synthese, choix, tmp / "decisions.xlsx"),
                         date_comite=None, maintenant=datetime(2017, 12, 11, 17, tzinfo=UTC))
        [numero] = establish_conventions(rt.factory, 2018, maintenant=datetime(2017, 12, 20, tzinfo=UTC))
        sign(rt.factory, numero, le=date(2017, 12, 28))
        for valide_le in (date(2018, 11, 15), date(2019, 11, 14)):
            prolong(rt.factory, numero, valide_le=valide_le, instance=None, maintenant=datetime(2019, 12, 1, tzinfo=UTC))
        add_user(rt.factory, "sa", MOT_DE_PASSE, Role.GESTION, maintenant=HORLOGE)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(rt, horloge=lambda: HORLOGE), host="127.0.0.1", port=port,
                                               log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "le serveur du back office n'a pas démarré"
        yield {"url": f"http://127.0.0.1:{port}", "rt": rt, "tmp": tmp, "numero": numero, "choix": choix}
        server.should_exit = True
        thread.join(10)
    runtime_module._current = previous


@pytest.fixture(scope="module")
def navigateur():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(request, navigateur, serveur):
    """A signed-in page; on failure, a full-page screenshot under var/captures-navigateur/ (or $AAP_CAPTURES)."""
    context = navigateur.new_context(base_url=serveur["url"], accept_downloads=True, locale="fr-FR")
    tab = context.new_page()
    tab.goto("/connexion")
    tab.get_by_label("Identifiant").fill("sa")
    tab.get_by_label("Mot de passe").fill(MOT_DE_PASSE)
    tab.get_by_role("button", name="Se connecter").click()
    tab.wait_for_url(f"{serveur['url']}/")
    yield tab
    rapport = getattr(request.node, "rapport_call", None)
    if rapport is not None and rapport.failed:
        CAPTURES.mkdir(parents=True, exist_ok=True)
        shot = CAPTURES / f"{request.node.name}.png"
        tab.screenshot(path=str(shot), full_page=True)
        print(f"\nCapture d'écran de l'échec : {shot}")
    context.close()


def test_signing_in_leads_to_the_dashboard_with_what_waits(page):
    assert page.title().startswith("Tableau de bord")
    assert page.get_by_role("heading", level=1).inner_text() == "Tableau de bord"
    assert "7 décembre 2017 à 17 h 00" in page.content()
    assert page.get_by_role("link", name="1 dépôt non identifié").is_visible()


def test_a_dossier_is_two_clicks_away_and_its_attestation_downloads(page):
    page.get_by_role("link", name="Voir les 2 dossiers de l'appel 2018").click()
    page.get_by_role("link", name="Atelier <b>Vélo</b> & Cie").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Dossier 2018-001 — Atelier <b>Vélo</b> & Cie"
    with page.expect_download() as info:
        page.get_by_role("link", name="Attestation AAP-2018-0001").click()
    download = info.value
    assert download.suggested_filename == "attestation_AAP-2018-0001.docx"
    assert Path(download.path()).read_bytes()[:2] == b"PK"


def test_a_waiting_depot_is_rattache_to_a_structure(page):
    page.get_by_role("link", name="Dépôts en attente", exact=True).click()
    assert "expéditeur inconnu et aucun SIRET valide" in page.content()

    page.get_by_label("SIRET").fill("732 829 320 00074")
    page.get_by_label("Nom (si la structure est nouvelle)").fill("Les Jardins de Cocagne")
    page.get_by_role("button", name="Rattacher").click()

    status = page.get_by_role("status")
    assert "rattaché au dossier 2018-003." in status.inner_text()
    assert "Rien n'attend" in page.content()
    page.goto("/appels/2018/dossiers?q=Cocagne")
    assert page.get_by_role("link", name="2018-003").is_visible()


def test_a_decisions_workbook_with_one_error_is_refused_and_the_error_named(page, serveur, tmp_path):
    from forms.synthese import fill_decisions

    page.get_by_role("link", name="Comité", exact=True).click()
    with page.expect_download() as info:
        page.get_by_role("link", name="synthèse à remplir (.xlsx)").first.click()
    blank = tmp_path / "synthese.xlsx"
    info.value.save_as(blank)
    filled = fill_decisions(blank, {**serveur["choix"], "2018-002": ("Peut-être", "")}, tmp_path / "remplie.xlsx")

    page.get_by_label("Synthèse remplie (.xlsx)").set_input_files(str(filled))
    page.get_by_role("button", name="Enregistrer les décisions").click()

    assert "Fichier refusé : aucune décision enregistrée" in page.get_by_role("alert").first.inner_text()
    problems = page.locator(".problemes li").all_inner_texts()
    assert len(problems) == 1 and "dossier 2018-002 : décision « Peut-être » inconnue" in problems[0]


def test_a_convention_at_two_renewals_refuses_the_third_with_its_reason(page, serveur):
    numero = serveur["numero"]
    page.get_by_role("link", name="Conventions", exact=True).click()
    row = page.get_by_role("row").filter(has_text=numero)
    assert "2/2" in row.inner_text()
    row.get_by_role("link", name=numero).click()

    renouveler = page.get_by_role("group", name="Renouveler pour un an")  # the page also offers a modification
    renouveler.get_by_label("Validé par les instances le").fill("2020-11-12")
    renouveler.get_by_label("Instance", exact=True).fill("comité de pilotage du 12 novembre 2020")
    renouveler.get_by_role("button", name="Renouveler").click()

    alert = page.get_by_role("alert").inner_text()
    assert f"Renouvellement refusé : la convention {numero} a déjà été renouvelée 2 fois" in alert
    assert "nouvel appel à projets" in alert
    assert "2/2" in page.content()


def test_keyboard_focus_is_visible_and_every_field_has_a_label(page):
    page.goto("/appels/2018/courrier")
    for field in page.locator("main input:not([type=hidden]), main select").all():
        ident = field.get_attribute("id")
        assert ident and page.locator(f"label[for='{ident}']").count() == 1, ident
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
