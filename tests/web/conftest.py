"""The back office over a real database (SQLite and PostgreSQL), real files and a real SMTP sink."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import update

from actions.utilisateurs import add_user
from adapters.database import transaction
from flows import runtime as runtime_module
from flows.runtime import configure, get_settings
from models.utilisateur import Role, Utilisateur
from tests.conftest import run_intake
from tests.samples import deliver, deliver_complete, paris, porteur

MAINTENANT = datetime(2017, 12, 8, 9, 0, tzinfo=timezone.utc)
MOT_DE_PASSE = "correct horse battery"
HACHE_DE_TEST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(MOT_DE_PASSE)
"""The accounts of ``bureau`` keep their password under argon2id at the lowest cost: the back office checks it as
any other (the cost is written in the hash), in 1 ms instead of the 135 ms and both cores that ``add_user``'s
hash asks, at every test's sign-in (``test_comptes`` checks the hashes ``add_user`` writes)."""
HOSTILE = "<script>alert(1)</script> & Cie"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Bureau:
    """The SA's office: a published call with dossiers, a dépôt no one can place, two accounts."""

    rt: runtime_module.Runtime
    app: object
    tmp: Path
    clock: list[datetime]

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def signed_in(self, identifiant: str = "marie") -> TestClient:
        client = self.client()
        response = sign_in(client, identifiant, MOT_DE_PASSE)
        assert response.status_code == 303 and response.headers["location"] == "/", response.text
        return client


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def sign_in(client: TestClient, identifiant: str, mot_de_passe: str):
    form = client.get("/connexion")
    return client.post("/connexion", data={"identifiant": identifiant, "mot_de_passe": mot_de_passe,
                                           "csrf": csrf_of(form.text)})


def post(client: TestClient, url: str, data: dict | None = None, *, page: str = "/", files=None):
    """A form sent as a browser sends it: with the CSRF field of the page it came from."""
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**(data or {}), "csrf": token}, files=files)


def build_bureau(w) -> None:
    """Two dossiers (one named with markup), one dépôt non identifié, accounts marie (gestion) and paul (lecture)."""
    deliver_complete(w.maildir, w.tmp / "forms", porteur(1, nom=HOSTILE), paris(6, 10))
    deliver_complete(w.maildir, w.tmp / "forms", porteur(2), paris(6, 11))
    deliver(w.maildir, sender="inconnu@example.org", when=paris(6, 12), attachments=[("lettre.pdf", b"%PDF-1.4\n%%EOF\n")],
            message_id="<inconnu@example.org>")
    run_intake(w.factory, w.storage, w.maildir, w.mail)
    for identifiant, role in (("marie", Role.GESTION), ("paul", Role.LECTURE)):
        add_user(w.factory, identifiant, MOT_DE_PASSE, role, maintenant=MAINTENANT)
    with transaction(w.factory) as session:  # a bulk UPDATE: not a change the journal records
        session.execute(update(Utilisateur).values(mot_de_passe=HACHE_DE_TEST))


@pytest.fixture
def bureau(world, snapshots) -> Bureau:
    """The 2018 call with two dossiers (one named with markup), one dépôt non identifié, accounts marie (gestion)
    and paul (lecture); the back office's clock fixed the morning after the deadline. The state is built once per
    module and database (tests/snapshots.py), then copied into each test."""
    from web.app import create_app

    snapshots.restore("bureau", build_bureau, world)
    previous = runtime_module._current
    settings = get_settings().model_copy(update={
        "database_url": world.db_url, "storage_dir": world.storage.root, "pdf": "off", "smtp_host": "127.0.0.1",
        "smtp_port": world.sink.port, "web_secret": "clé de test du back office, jamais en production",
    })
    rt = configure(settings)
    clock = [MAINTENANT]
    yield Bureau(rt, create_app(rt, horloge=lambda: clock[0]), world.tmp, clock)
    runtime_module._current = previous


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201
    """Each test's report on its item, so that a browser test's fixture can screenshot a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rapport_{report.when}", report)
