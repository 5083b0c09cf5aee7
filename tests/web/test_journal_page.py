"""The SA's actions from the back office are journaled under her account, and the dossier page shows its journal."""
from __future__ import annotations

from sqlalchemy import select

from models import Journal
from tests.web.conftest import post
from tests.web.test_routes import unknown_depot

JARDINS = {"siret": "732 829 320 00074", "nom": "Les Jardins de Cocagne"}


def test_a_rattachement_from_the_web_is_journaled_under_the_account_and_shown_on_the_dossier_page(bureau):
    client = bureau.signed_in()
    depot = unknown_depot(bureau)

    response = post(client, f"/appels/2018/depots-en-attente/{depot}/rattacher", JARDINS,
                    page="/appels/2018/depots-en-attente")

    assert response.status_code == 303, response.text
    with bureau.rt.factory() as s:
        entries = [(j.genre, j.dossier, j.utilisateur) for j in s.scalars(select(Journal).order_by(Journal.id))]
    assert ("depot_rattache", "2018-003", "marie") in entries
    assert ("dossier_ouvert", "2018-003", "marie") in entries
    assert all(u is None for g, _, u in entries if g == "depot_enregistre")  # the intake ran from no account
    page = client.get("/appels/2018/dossiers/2018-003").text
    assert "Journal des opérations" in page
    assert f"Dépôt n° {depot} par courriel : rattaché au dossier 2018-003." in page
    assert "<td>marie</td>" in page
