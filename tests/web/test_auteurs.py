"""Who changed what: an action from the back office leaves one ``action_utilisateur`` row per row it changed,
naming the account, in the change's own transaction; a refused action and a command run from a terminal leave
none. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from models import ActionUtilisateur, Depot, Dossier
from tests.web.conftest import post
from tests.web.test_routes import unknown_depot, waiting

JARDINS = {"siret": "732 829 320 00074", "nom": "Les Jardins de Cocagne"}

pytestmark = pytest.mark.shared_per_database("db_url")  # the bureau built once per database, on one worker


def actions(bureau) -> list[tuple[str, str, str, str]]:
    with bureau.rt.factory() as s:
        return [(a.utilisateur, a.table_nom, a.ligne, a.operation)
                for a in s.scalars(select(ActionUtilisateur).order_by(ActionUtilisateur.id))]


def test_a_rattachement_from_the_web_names_the_account_on_the_depot_and_the_dossier_it_changed(bureau):
    client = bureau.signed_in()
    depot = unknown_depot(bureau)
    assert actions(bureau) == []  # signing in and reading pages change no data
    avant = datetime.now(timezone.utc)

    response = post(client, f"/appels/2018/depots-en-attente/{depot}/rattacher", JARDINS,
                    page="/appels/2018/depots-en-attente")

    assert response.status_code == 303, response.text
    with bureau.rt.factory() as s:
        dossier = s.scalar(select(Dossier).where(Dossier.numero == "2018-003"))
        assert s.get(Depot, depot).dossier_id == dossier.id
        moments = s.scalars(select(ActionUtilisateur.moment)).all()
    rows = actions(bureau)
    assert ("marie", "depot", str(depot), "modification") in rows
    assert ("marie", "dossier", str(dossier.id), "création") in rows
    assert {r[0] for r in rows} == {"marie"}
    assert not {r[1] for r in rows} & {"passage", "session_web", "action_utilisateur"}
    # the real clock (when she acted), not the back office's fixed one of December 2017
    assert all(avant - timedelta(seconds=1) <= m <= datetime.now(timezone.utc) for m in moments)


def test_a_refused_action_from_the_web_records_no_author(bureau):
    client = bureau.signed_in()
    depot = unknown_depot(bureau)

    refused = post(client, f"/appels/2018/depots-en-attente/{depot}/rattacher", {"siret": "123"})
    not_held = post(client, f"/appels/2018/depots-en-attente/{depot}/confirmer")

    assert (refused.status_code, not_held.status_code) == (409, 409)
    assert len(waiting(bureau)) == 1
    assert actions(bureau) == []


def test_a_command_from_a_terminal_records_no_author(bureau):
    from flows.cli import app

    depot = unknown_depot(bureau)
    result = CliRunner().invoke(app, ["depot", "rattacher", str(depot), "--appel", "2018", "--siret", JARDINS["siret"],
                                      "--nom", JARDINS["nom"]])

    assert result.exit_code == 0, result.output
    assert "rattaché au dossier 2018-003" in result.output
    assert waiting(bureau) == []
    assert actions(bureau) == []


def test_a_direct_action_from_the_web_names_the_account_too(bureau):
    client = bureau.signed_in()
    depot = unknown_depot(bureau)

    response = post(client, f"/appels/2018/depots-en-attente/{depot}/rejeter", {"motif": "Publicité sans rapport."},
                    page="/appels/2018/depots-en-attente")

    assert response.status_code == 303, response.text
    assert ("marie", "depot", str(depot), "modification") in actions(bureau)


@pytest.mark.database_matters("the author's record is part of the transaction")
def test_the_record_rolls_back_with_the_change_and_commits_with_it(bureau):
    from flows.passage import ACTEUR
    from models.utilisateur import Role, Utilisateur

    def account(identifiant: str) -> Utilisateur:
        return Utilisateur(identifiant=identifiant, mot_de_passe="x", role=Role.LECTURE, cree_le=datetime.now(timezone.utc))

    token = ACTEUR.set("marie")
    try:
        with bureau.rt.factory() as s:
            s.add(account("annulee"))
            s.flush()
            assert [r.operation for r in s.scalars(select(ActionUtilisateur))] == ["création"]  # written by the flush
            s.rollback()
        assert actions(bureau) == []
        with bureau.rt.factory.begin() as s:
            s.add(account("gardee"))
    finally:
        ACTEUR.reset(token)

    with bureau.rt.factory() as s:
        ident = s.scalar(select(Utilisateur.id).where(Utilisateur.identifiant == "gardee"))
    assert actions(bureau) == [("marie", "utilisateur", str(ident), "création")]
