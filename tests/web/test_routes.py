"""The back office's rules of safety, through FastAPI's TestClient on SQLite and PostgreSQL: no session → sign-in
page; CSRF on every POST; the lecture role changes nothing; sessions close at once; five wrong passwords lock a
login; user text is escaped; downloads only by an id the server chose; actions go through the CLI's stages."""
from __future__ import annotations

import html
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from actions.instruction import instruct_appel
from actions.utilisateurs import deactivate_user
from forms.synthese import fill_decisions
from models import Courriel, Depot, Passage
from models.courriel import CourrielStatut
from models.dossier import DepotStatut
from models.instruction import DecisionComite
from tests.samples import porteur
from tests.web.conftest import MOT_DE_PASSE, csrf_of, post, sign_in

PAGES = ["/", "/appels/2018/dossiers", "/appels/2018/dossiers/2018-001", "/appels/2018/depots-en-attente",
         "/appels/2018/courrier", "/appels/2018/comite", "/conventions", "/conventions/CONV-2018-001", "/echeancier",
         "/courriels", "/telecharger/attestation/1", "/telecharger/piece/1"]
ACTIONS = ["/appels/2018/depots-en-attente/3/rattacher", "/appels/2018/depots-en-attente/3/rejeter",
           "/appels/2018/depots-en-attente/3/confirmer", "/appels/2018/courrier", "/appels/2018/comite/preparer",
           "/appels/2018/comite/decisions", "/appels/2018/dossiers/2018-001/admettre",
           "/conventions/CONV-2018-001/renouveler", "/conventions/CONV-2018-001/modifier", "/conventions/CONV-2018-001/signer", "/courriels/1/renvoyer",
           "/deconnexion"]

pytestmark = pytest.mark.shared_per_database("db_url")  # the bureau built once per database, on one worker


def lu(response) -> str:
    """The page's text as a person reads it (entities such as &#39; decoded; markup stays markup)."""
    return html.unescape(response.text)


def waiting(bureau) -> list[tuple[int, str]]:
    with bureau.rt.factory() as s:
        return list(s.execute(select(Depot.id, Depot.statut).where(Depot.statut == DepotStatut.NON_IDENTIFIE)))


def unknown_depot(bureau) -> int:
    [(depot_id, _)] = waiting(bureau)
    return depot_id


def test_health_answers_without_a_session_and_says_nothing_else(bureau):
    response = bureau.client().get("/sante")

    assert response.status_code == 200 and response.text == "ok"
    assert "set-cookie" not in response.headers


def test_without_a_session_every_page_download_and_action_goes_to_the_sign_in_page(bureau):
    client = bureau.client()
    for url in PAGES:
        response = client.get(url)
        assert (response.status_code, response.headers.get("location")) == (303, "/connexion"), url
    for url in ACTIONS:
        response = client.post(url, data={"siret": "12345678900011", "motif": "x"})
        assert (response.status_code, response.headers.get("location")) == (303, "/connexion"), url
    client.cookies.set("aap_session", "un-jeton-invente")
    assert client.get("/").status_code == 303
    assert len(waiting(bureau)) == 1


def test_signing_in_opens_a_session_cookie_that_scripts_cannot_read(bureau):
    client = bureau.client()
    form = client.get("/connexion")
    assert 'name="identifiant"' in lu(form) and 'name="mot_de_passe"' in lu(form) and 'lang="fr"' in lu(form)

    response = client.post("/connexion", data={"identifiant": " Marie ", "mot_de_passe": MOT_DE_PASSE,
                                               "csrf": csrf_of(form.text)})

    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("aap_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie and "secure" not in cookie
    home = client.get("/")
    assert home.status_code == 200 and "Tableau de bord" in home.text and "marie (gestion)" in home.text
    assert client.get("/connexion").headers["location"] == "/"


def test_over_https_the_session_cookie_is_secure(bureau):
    from fastapi.testclient import TestClient

    client = TestClient(bureau.app, base_url="https://testserver", follow_redirects=False)
    response = sign_in(client, "marie", MOT_DE_PASSE)

    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("aap_session=")][0].lower()
    assert "secure" in cookie


def test_sign_in_form_without_its_token_is_refused(bureau):
    client = bureau.client()
    client.get("/connexion")

    response = client.post("/connexion", data={"identifiant": "marie", "mot_de_passe": MOT_DE_PASSE})

    assert response.status_code == 403 and "aap_session" not in response.headers.get("set-cookie", "")


def test_a_wrong_password_and_an_unknown_login_get_the_same_french_answer(bureau):
    client = bureau.client()
    wrong = sign_in(client, "marie", "pas le bon mot de passe")
    unknown = sign_in(client, "personne", "pas le bon mot de passe")

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Connexion refusée : identifiant ou mot de passe incorrect." in response.text
        assert "aap_session" not in response.headers.get("set-cookie", "")


def test_five_wrong_passwords_in_a_row_lock_that_login_for_a_while(bureau):
    client = bureau.client()
    for _ in range(4):
        assert sign_in(client, "marie", "pas le bon mot de passe").status_code == 401
    fifth = sign_in(client, "marie", "pas le bon mot de passe")
    assert "cinq essais infructueux de suite : connexion bloquée jusqu'à 10 h 15" in lu(fifth)

    locked = sign_in(client, "marie", MOT_DE_PASSE)
    assert locked.status_code == 401 and "connexion bloquée" in locked.text
    assert sign_in(bureau.client(), "paul", MOT_DE_PASSE).status_code == 303  # another login is not locked

    bureau.clock[0] += timedelta(minutes=16)
    assert sign_in(client, "marie", MOT_DE_PASSE).status_code == 303


def test_signing_out_closes_the_session_at_once(bureau):
    client = bureau.signed_in()
    token = client.cookies.get("aap_session")

    response = post(client, "/deconnexion")

    assert response.status_code == 303 and response.headers["location"] == "/connexion"
    client.cookies.set("aap_session", token)
    assert client.get("/").status_code == 303


def test_a_deactivated_account_loses_its_open_session_at_once_and_cannot_sign_in(bureau):
    client = bureau.signed_in()
    deactivate_user(bureau.rt.factory, "marie", maintenant=bureau.clock[0])

    assert client.get("/").headers["location"] == "/connexion"
    assert sign_in(bureau.client(), "marie", MOT_DE_PASSE).status_code == 401


@pytest.mark.database_matters("times stored in UTC compared in SQL")
def test_a_session_unused_for_hours_expires(bureau):
    client = bureau.signed_in()
    bureau.clock[0] += timedelta(hours=3, minutes=59)
    assert client.get("/").status_code == 200
    bureau.clock[0] += timedelta(hours=4, minutes=1)

    assert client.get("/").headers["location"] == "/connexion"


def test_a_post_without_this_sessions_token_is_refused_and_does_nothing(bureau):
    client = bureau.signed_in()
    depot = unknown_depot(bureau)
    url = f"/appels/2018/depots-en-attente/{depot}/rejeter"

    missing = client.post(url, data={"motif": "pas pour nous"})
    wrong = client.post(url, data={"motif": "pas pour nous", "csrf": "jeton-d-une-autre-session"})
    other = bureau.signed_in("paul")  # a valid token, of another session
    stolen = client.post(url, data={"motif": "pas pour nous", "csrf": csrf_of(other.get("/").text)})

    for response in (missing, wrong, stolen):
        assert response.status_code == 403 and "Rien n'a été modifié" in lu(response)
    assert waiting(bureau) == [(depot, DepotStatut.NON_IDENTIFIE)]


def test_the_lecture_role_sees_every_page_and_its_posts_are_refused(bureau):
    client = bureau.signed_in("paul")
    for url in PAGES[:5]:
        assert client.get(url).status_code == 200, url
    assert "Rejeter" not in client.get("/appels/2018/depots-en-attente").text

    response = post(client, f"/appels/2018/depots-en-attente/{unknown_depot(bureau)}/rejeter", {"motif": "non"})

    assert response.status_code == 403 and "lecture seule" in response.text
    assert len(waiting(bureau)) == 1
    assert post(client, "/deconnexion").status_code == 303  # signing out is not a change


def test_a_structure_named_with_markup_shows_as_text_everywhere(bureau):
    client = bureau.signed_in()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie"

    for url in ("/appels/2018/dossiers", "/appels/2018/dossiers/2018-001", "/appels/2018/dossiers?q=script",
                "/courriels"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "<script>" not in page.text and escaped in page.text, url
    assert "default-src 'self'" in page.headers["content-security-policy"]


@pytest.mark.database_matters("searches (lower() folds only ASCII on SQLite, LIKE is case-sensitive on PostgreSQL) and paging")
def test_dossiers_are_filtered_searched_and_paged(bureau):
    client = bureau.signed_in()

    assert "2 dossiers." in client.get("/appels/2018/dossiers").text
    by_name = client.get("/appels/2018/dossiers", params={"q": "n° 2"}).text
    assert "1 dossier correspondant aux filtres." in by_name and "2018-002" in by_name and "2018-001<" not in by_name
    siret = client.get("/appels/2018/dossiers", params={"q": "4000000020"}).text
    assert "2018-002" in siret and "1 dossier correspondant" in siret
    assert "0 dossier correspondant" in client.get("/appels/2018/dossiers", params={"canal": "courrier"}).text
    assert "2 dossiers correspondants" in client.get("/appels/2018/dossiers", params={"hors_delai": "non"}).text
    assert client.get("/appels/2018/dossiers", params={"statut": "bidon"}).status_code == 400
    assert client.get("/appels/2031/dossiers").status_code == 404


def test_a_dossier_page_shows_its_timeline_pieces_and_mails_in_french(bureau):
    page = bureau.signed_in().get("/appels/2018/dossiers/2018-002").text

    assert "Version 1 : courriel, reçu le 6 décembre 2017 à 11 h 00 — dans les délais" in page
    assert "attestation AAP-2018-0002" in page and "/telecharger/attestation/" in page
    assert "attestation de dépôt" in page and "envoyé" in page
    with bureau.rt.factory() as s:
        sha = s.scalar(select(Depot).where(Depot.dossier_id.is_not(None)).order_by(Depot.id.desc())).pieces[0].sha256
    assert sha in page
    assert bureau.signed_in().get("/appels/2018/dossiers/2018-999").status_code == 404


def test_downloads_only_by_an_id_the_server_chose_as_attachments(bureau):
    client = bureau.signed_in()
    page = client.get("/appels/2018/dossiers/2018-002").text
    link = page.split('href="/telecharger/attestation/', 1)[1].split('"', 1)[0]

    response = client.get(f"/telecharger/attestation/{link}")

    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert response.headers["content-disposition"].startswith('attachment; filename="attestation_AAP-2018-0002.docx"')
    for url in ("/telecharger/attestation/999", "/telecharger/chemin/1", "/telecharger/piece/..%2F..%2Faap.sqlite",
                "/telecharger/piece/%2Fetc%2Fpasswd", "/telecharger/../aap.sqlite"):
        assert client.get(url).status_code in (404, 422), url


def test_a_purged_file_is_said_gone_with_its_day_and_reason_instead_of_downloaded(bureau):
    from actions.conservation import hold
    from actions.purge import purge

    client = bureau.signed_in()
    links = {}
    for numero in ("2018-001", "2018-002"):
        page = client.get(f"/appels/2018/dossiers/{numero}").text
        links[numero] = page.split('href="/telecharger/attestation/', 1)[1].split('"', 1)[0]
    cinq_ans = datetime(2023, 3, 1, 9, 0, tzinfo=timezone.utc)
    hold(bureau.rt.factory, "2018-001", motif="litige", par="marie", maintenant=cinq_ans)
    purge(bureau.rt.factory, bureau.rt.storage, maintenant=cinq_ans)

    gone = client.get(f"/telecharger/attestation/{links['2018-002']}")
    assert gone.status_code == 410
    assert gone.text.startswith("Fichier « AAP-2018-0002.docx » supprimé le 1er mars 2023 au terme de sa "
                                "durée de conservation (non retenu (resté « incomplet » au comité du 11 décembre 2017)")
    assert "son nom, sa taille et son empreinte SHA-256 restent enregistrés" in gone.text
    assert client.get(f"/telecharger/attestation/{links['2018-001']}").status_code == 200  # held


def test_rattacher_goes_through_the_cli_stage_and_records_who_did_it(bureau):
    client = bureau.signed_in()
    depot = unknown_depot(bureau)
    page = client.get("/appels/2018/depots-en-attente").text
    assert f"Dépôt n° {depot}" in page and "expéditeur inconnu et aucun SIRET valide" in page

    response = post(client, f"/appels/2018/depots-en-attente/{depot}/rattacher",
                    {"siret": "732 829 320 00074", "nom": "Les Jardins de Cocagne"}, page="/appels/2018/depots-en-attente")

    assert response.status_code == 303 and response.headers["location"] == "/appels/2018/depots-en-attente"
    after = client.get(response.headers["location"]).text
    assert f"Dépôt n° {depot} rattaché au dossier 2018-003." in after and "Courriels envoyés : 1." in after
    assert "Rien n'attend" in after
    assert f"Dépôt n° {depot} rattaché" not in client.get("/appels/2018/depots-en-attente").text  # said once
    with bureau.rt.factory() as s:
        row = s.scalar(select(Passage).order_by(Passage.id.desc()))
        assert (row.etape, row.utilisateur, row.statut.value) == ("rattachement", "marie", "terminé")


def test_a_refused_action_shows_its_french_reason_and_changes_nothing(bureau):
    client = bureau.signed_in()
    depot = unknown_depot(bureau)

    bad_siret = post(client, f"/appels/2018/depots-en-attente/{depot}/rattacher", {"siret": "123"})
    no_motif = post(client, f"/appels/2018/depots-en-attente/{depot}/rejeter", {"motif": "  "})
    not_held = post(client, f"/appels/2018/depots-en-attente/{depot}/confirmer")

    assert bad_siret.status_code == 409 and "Refusé : SIRET" in bad_siret.text
    assert no_motif.status_code == 409 and "Refusé : indiquez le motif du rejet" in no_motif.text
    assert not_held.status_code == 409 and "n'est pas à vérifier" in lu(not_held)
    assert waiting(bureau) == [(depot, DepotStatut.NON_IDENTIFIE)]


def test_a_postal_depot_is_registered_from_uploaded_scans(bureau):
    client = bureau.signed_in()
    files = [("fichiers", ("../../courrier signé.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))]

    response = post(client, "/appels/2018/courrier", {"siret": porteur(2).siret, "recu_le": "2017-12-06T15:30"},
                    page="/appels/2018/courrier", files=files)

    assert response.status_code == 303, response.text
    assert "enregistré." in client.get("/appels/2018/courrier").text
    page = client.get("/appels/2018/dossiers/2018-002").text
    assert "courrier, reçu le 6 décembre 2017 à 15 h 30" in page and "courrier signé.pdf" in page
    bad = post(client, "/appels/2018/courrier", {"siret": porteur(2).siret, "recu_le": "hier"},
               page="/appels/2018/courrier", files=files)
    assert bad.status_code == 400 and "« hier » n'est pas une date et une heure" in lu(bad)


def test_a_decisions_workbook_with_an_error_is_refused_line_by_line_and_records_nothing(bureau, tmp_path):
    instruct_appel(bureau.rt.factory, bureau.rt.storage, 2018, maintenant=datetime(2017, 12, 8, 13, tzinfo=timezone.utc),
                   pdf=False)
    client = bureau.signed_in()
    prepared = post(client, "/appels/2018/comite/preparer", {"date_comite": "2017-12-11"}, page="/appels/2018/comite")
    assert prepared.status_code == 303, prepared.text
    page = client.get("/appels/2018/comite").text
    assert "Dossier de séance du comité du 11 décembre 2017 prêt : 2 dossiers à décider." in page
    synthese = client.get("/telecharger/synthese/" + page.split('href="/telecharger/synthese/', 1)[1].split('"', 1)[0])
    assert synthese.status_code == 200 and "attachment" in synthese.headers["content-disposition"]
    blank = tmp_path / "synthese.xlsx"
    blank.write_bytes(synthese.content)
    filled = fill_decisions(blank, {"2018-001": ("Retenu", ""), "2018-002": ("Peut-être", "")}, tmp_path / "remplie.xlsx")

    response = post(client, "/appels/2018/comite/decisions", page="/appels/2018/comite",
                    files=[("fichier", ("remplie.xlsx", filled.read_bytes(), "application/octet-stream"))])

    assert response.status_code == 400
    assert "Fichier refusé : aucune décision enregistrée, aucun courriel envoyé." in response.text
    assert "dossier 2018-002 : décision « Peut-être » inconnue" in response.text
    with bureau.rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(DecisionComite)) == 0


def signed_convention(bureau) -> str:
    """Dossier 2018-001 retenu, its convention established and signed on 28 December 2017 (straight through actions/)."""
    from actions.comite import prepare_comite, record_decisions
    from actions.conventions import establish_conventions, sign

    rt, utc = bureau.rt, timezone.utc
    instruct_appel(rt.factory, rt.storage, 2018, maintenant=datetime(2017, 12, 8, 13, tzinfo=utc), pdf=False)
    pack = prepare_comite(rt.factory, rt.storage, 2018, comite_le=None, sortie=bureau.tmp / "comite",
                          maintenant=datetime(2017, 12, 9, 9, tzinfo=utc))
    choix = {"2018-001": ("Retenu", ""), "2018-002": ("Non retenu", "Hors cible.")}
    record_decisions(rt.factory, 2018, fill_decisions(pack.synthese, choix, bureau.tmp / "decisions.xlsx"),
                     date_comite=None, maintenant=datetime(2017, 12, 11, 17, tzinfo=utc))
    [numero] = establish_conventions(rt.factory, 2018, maintenant=datetime(2017, 12, 20, tzinfo=utc))
    sign(rt.factory, numero, le=date(2017, 12, 28))
    return numero


def test_the_third_renewal_is_refused_with_its_reason_on_the_convention_page(bureau):
    from actions.conventions import prolong

    rt, utc = bureau.rt, timezone.utc
    numero = signed_convention(bureau)
    for valide_le in (date(2018, 11, 15), date(2019, 11, 14)):
        prolong(rt.factory, numero, valide_le=valide_le, instance=None, maintenant=datetime(2019, 12, 1, tzinfo=utc))
    bureau.clock[0] = datetime(2020, 11, 12, 17, tzinfo=utc)
    client = bureau.signed_in()
    page = client.get(f"/conventions/{numero}").text
    assert "2/2" in page and "nouvel appel requis" in page or "avenant" in page

    response = post(client, f"/conventions/{numero}/renouveler", {"valide_le": "2020-11-12"}, page=f"/conventions/{numero}")

    assert response.status_code == 409
    assert f"Renouvellement refusé : la convention {numero} a déjà été renouvelée 2 fois" in response.text
    with rt.factory() as s:
        assert s.scalar(select(Passage.utilisateur).order_by(Passage.id.desc())) == "marie"
    assert "2/2" in client.get("/conventions").text


def test_a_modification_avenant_is_established_from_the_convention_page_with_the_commands_refusals(bureau):
    from models import Avenant, Convention

    numero = signed_convention(bureau)
    bureau.clock[0] = datetime(2018, 3, 1, 10, tzinfo=timezone.utc)
    client = bureau.signed_in()
    page = client.get(f"/conventions/{numero}")
    assert f'action="/conventions/{numero}/modifier"' in page.text and 'name="montants"' in page.text

    def modifier(**champs):
        return post(client, f"/conventions/{numero}/modifier", {"valide_le": "2018-03-01", **champs},
                    page=f"/conventions/{numero}")

    unreadable = modifier(etp="Sophie Durand")
    unknown = modifier(remplacements="Jeanne Inconnue=Lina Haddad")
    unbalanced = modifier(montants="budget_autres=0,01")
    nothing = modifier()
    assert unreadable.status_code == 409 and "Refusé : « Sophie Durand » : attendu CLÉ=VALEUR." in lu(unreadable)
    assert unknown.status_code == 409
    assert f"Modification refusée : référent « Jeanne Inconnue » absent de la convention {numero}" in lu(unknown)
    assert unbalanced.status_code == 409 and "budget non équilibré après modification" in lu(unbalanced)
    assert nothing.status_code == 409 and "aucune modification demandée" in lu(nothing)
    with bureau.rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(Avenant)) == 0
        before = s.scalar(select(Convention).where(Convention.numero == numero))
    plus = {"budget_autres": before.budget_autres + 250, "ressources_autres": before.ressources_autres + 250}
    montants = "\r\n".join(f"{cle}={str(valeur).replace('.', ',')}" for cle, valeur in plus.items())

    response = modifier(instance="bureau du PLIE", montants=montants.replace("\r\n", "\r\n\r\n"))

    assert response.status_code == 303, lu(response)
    after = lu(client.get(response.headers["location"]))
    assert f"Avenant {numero}-A1 établi et envoyé pour signature." in after
    with bureau.rt.factory() as s:
        c = s.scalar(select(Convention).where(Convention.numero == numero))
        [avenant] = s.scalars(select(Avenant)).all()
        assert (avenant.numero, avenant.nature.value, c.renouvellements) == (f"{numero}-A1", "modification", 0)
        assert (c.budget_autres, c.ressources_autres) == (plus["budget_autres"], plus["ressources_autres"])
    again = modifier(instance="bureau du PLIE", montants=montants)
    assert again.status_code == 303 and "Demande déjà traitée" in lu(client.get(again.headers["location"]))


def held_bilan(bureau, sink, mail) -> str:
    """The mid-term bilan of dossier 2018-001's convention, filled in the form the échéancier sent on 15 July 2018 and
    returned by a colleague whose address the PLIE does not know: held « à vérifier » in the queue."""
    from actions.echeancier import run_echeancier
    from actions.outbox import send_pending
    from forms.bilan import fill_bilan_form
    from models.suivi import Bilan, Verification
    from tests.conftest import run_intake
    from tests.integration.test_suivi import BILAN_A, PIECES_A, attachments, morning
    from tests.samples import deliver

    rt = bureau.rt
    signed_convention(bureau)
    run_echeancier(rt.factory, rt.storage, maintenant=morning(date(2018, 7, 15)), sa_email="assistante.plie@example.org")
    send_pending(rt.factory, mail, rt.storage.root)
    [(nom, blank)] = [(n, data) for m in sink.messages() if porteur(1).email in m["To"]
                      for n, data in attachments(m).items() if n.endswith(".xlsx")]
    (bureau.tmp / nom).write_bytes(blank)
    rempli = fill_bilan_form(bureau.tmp / nom, bureau.tmp / f"rempli-{nom}", BILAN_A)
    deliver(bureau.tmp / "boite", sender="collegue@example.org", when=morning(date(2018, 7, 20), 10),
            subject="RE: bilan à mi-parcours", message_id="<bilan-collegue@example.org>",
            attachments=[(nom, rempli.read_bytes()), *PIECES_A.items()])
    run_intake(rt.factory, rt.storage, bureau.tmp / "boite", mail, maintenant=morning(date(2018, 7, 20), 11))
    bureau.clock[0] = datetime(2018, 7, 20, 12, tzinfo=timezone.utc)
    with rt.factory() as s:
        [numero] = s.scalars(select(Bilan.numero).where(Bilan.verification == Verification.A_VERIFIER)).all()
    return numero


def test_a_held_bilan_is_confirmed_from_the_queue_and_joins_its_convention(bureau, sink, mail):
    from models import ActionUtilisateur
    from models.suivi import Bilan, Verification

    numero = held_bilan(bureau, sink, mail)
    client = bureau.signed_in()
    page = lu(client.get("/appels/2018/depots-en-attente"))
    assert f"Bilan n° {numero}" in page and f'action="/appels/2018/depots-en-attente/{numero}/confirmer"' in page

    response = post(client, f"/appels/2018/depots-en-attente/{numero}/confirmer", page="/appels/2018/depots-en-attente")

    assert response.status_code == 303, lu(response)
    after = lu(client.get(response.headers["location"]))
    assert f"Bilan n° {numero} confirmé : rattaché à sa convention." in after and f"Bilan n° {numero} —" not in after
    with bureau.rt.factory() as s:
        bilan = s.scalar(select(Bilan).where(Bilan.numero == numero))
        assert (bilan.verification, bilan.echeance_id is not None) == (Verification.CONFIRME, True)
        assert (s.scalar(select(ActionUtilisateur.utilisateur).where(ActionUtilisateur.table_nom == "bilan",
                                                                     ActionUtilisateur.ligne == str(bilan.id)))) == "marie"
    again = post(client, f"/appels/2018/depots-en-attente/{numero}/confirmer", page="/appels/2018/depots-en-attente")
    assert again.status_code == 409 and f"le bilan n° {numero} n'est pas à vérifier" in lu(again)


def test_a_held_bilan_is_rejected_from_the_queue_with_its_motif_kept(bureau, sink, mail):
    from models.suivi import Bilan, Verification

    numero = held_bilan(bureau, sink, mail)
    client = bureau.signed_in()
    url = f"/appels/2018/depots-en-attente/{numero}/rejeter"

    no_motif = post(client, url, {"motif": " "}, page="/appels/2018/depots-en-attente")
    assert no_motif.status_code == 409 and "indiquez le motif du rejet" in lu(no_motif)
    response = post(client, url, {"motif": "La structure ne connaît pas cet envoi."}, page="/appels/2018/depots-en-attente")

    assert response.status_code == 303, lu(response)
    assert f"Bilan n° {numero} —" not in lu(client.get(response.headers["location"]))
    with bureau.rt.factory() as s:
        bilan = s.scalar(select(Bilan).where(Bilan.numero == numero))
        assert (bilan.verification, bilan.echeance_id) == (Verification.REJETE, None)
        assert "La structure ne connaît pas cet envoi." in bilan.erreurs[-1]
    assert post(client, url, {"motif": "encore"}, page="/appels/2018/depots-en-attente").status_code == 409


def test_a_failed_mail_is_sent_again_from_the_outbox_page(bureau):
    with bureau.rt.factory.begin() as s:
        mail = s.scalar(select(Courriel).order_by(Courriel.id))
        mail.statut, mail.erreur = CourrielStatut.FAILED, "550 boîte pleine"
        ident = mail.id
    client = bureau.signed_in()
    page = client.get("/courriels?statut=en-echec").text
    assert "550 boîte pleine" in page and f'action="/courriels/{ident}/renvoyer"' in page

    response = post(client, f"/courriels/{ident}/renvoyer", page="/courriels")

    assert response.status_code == 303
    assert "remis en file d'envoi. Courriels envoyés : 1." in lu(client.get("/courriels"))
    with bureau.rt.factory() as s:
        assert s.get(Courriel, ident).statut is CourrielStatut.SENT
    again = post(client, f"/courriels/{ident}/renvoyer", page="/courriels")
    assert "n'est pas en échec" in lu(client.get(again.headers["location"]))


def test_the_dashboard_counts_what_waits_for_the_sa(bureau):
    page = lu(bureau.signed_in().get("/"))

    assert "Appel 2018" in page and "7 décembre 2017 à 17 h 00" in page and "11 décembre 2017" in page
    assert "<strong>1</strong> dépôt non identifié<" in page and "dépôts non identifiés" not in page
    assert "<strong>2</strong> dossiers incomplets<" in page and "<strong>0</strong> courriel en échec<" in page
    assert "Voir les 2 dossiers de l'appel 2018" in page


def test_every_line_to_handle_on_the_dashboard_has_its_singular(bureau):
    from actions.consultation import dashboard
    from web.app import SINGULIERS

    with bureau.rt.factory() as s:
        data = dashboard(s, aujourd_hui=date(2017, 12, 8))
    libelles = [libelle for a in data["appels"] for libelle, _, _ in a["a_traiter"]]
    libelles += [libelle for libelle, _, _ in data["a_traiter"]]
    assert libelles and sorted(set(libelles)) == sorted(SINGULIERS)


@pytest.mark.parametrize("name, expected", [("../../etc/passwd", "passwd"), ("C:\\scans\\cv.pdf", "cv.pdf"),
                                            (".htaccess", "htaccess"), ("a\u202eb\x00.pdf", "ab.pdf"), ("", "piece-3")])
def test_an_uploaded_file_keeps_only_a_harmless_name(name, expected):
    from web.app import safe_name

    assert safe_name(name, 3) == expected
