"""Benchmark of the back office's pages: the server time of each main page with N dossiers.

    python bench/web.py [--n 500] [--requetes 40] [--postgresql URL] [--json]

Builds a call with N dossiers written straight as rows (not timed): each with its structure, one or two
dépôts (a third of them by post too), three pièces per dépôt, an attestation and its mail per dépôt,
instruction findings and an avis; 20 dépôts waiting for the SA; a convention for one dossier in ten, some
renewed, with their échéances. Then signs in once and asks each main page ``--requetes`` times through
FastAPI's TestClient (in-process: what is timed is the application's own work, the ASGI stack included,
no network), and prints the median and the 95th percentile per page. Target: p95 ≤ 150 ms on SQLite.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.runtime import set_prefect_defaults  # noqa: E402

set_prefect_defaults()

UTC = timezone.utc
PAGES = [
    ("tableau de bord", "/"),
    ("dossiers (page 1)", "/appels/2018/dossiers"),
    ("dossiers (page 6, filtrés)", "/appels/2018/dossiers?statut=complet&page=6"),
    ("recherche", "/appels/2018/dossiers?q=structure+42"),
    ("dossier", "/appels/2018/dossiers/2018-250"),
    ("dépôts en attente", "/appels/2018/depots-en-attente"),
    ("conventions", "/conventions"),
    ("convention", "/conventions/CONV-2018-003"),
    ("échéancier", "/echeancier"),
    ("courriels (page 1)", "/courriels"),
]


def build(factory, n: int) -> None:
    """N dossiers and what goes with them, as rows (the intake's own speed is bench/intake.py's subject)."""
    from actions.conventions import convention_state
    from config.appel_config import load_appel_config
    from models import Appel, Attestation, Avenant, Convention, Courriel, Depot, Dossier, Piece, Porteur
    from models.convention import AvenantNature, ConventionStatut
    from models.courriel import CourrielStatut
    from models.dossier import Canal, DepotStatut, DossierStatut, NaturePiece
    from models.suivi import Echeance, NatureEcheance
    from flows.demo_data import luhn_siret

    cfg = load_appel_config(2018)
    deadline = datetime(2017, 12, 7, 16, 0, tzinfo=UTC)
    statuts = [DossierStatut.COMPLET, DossierStatut.INCOMPLET, DossierStatut.INSTRUIT, DossierStatut.RETENU,
               DossierStatut.NON_RETENU]
    avis = ["favorable", "réservé", "défavorable"]
    with factory.begin() as s:
        appel = Appel(annee=2018, titre=cfg.appel.titre, date_limite=deadline,
                      publie_le=datetime(2017, 11, 21, 8, tzinfo=UTC), config=json.loads(cfg.model_dump_json()))
        s.add(appel)
        s.flush()
        att = 0
        for i in range(1, n + 1):
            porteur = Porteur(siret=luhn_siret(f"{500000000 + i:09d}0001"), nom=f"Structure d'insertion {i}",
                              adresse=f"{i} rue du Port 21000 Valmont", contact_nom=f"Contact {i}",
                              contact_email=f"contact{i}@structure{i}.example.org")
            s.add(porteur)
            s.flush()
            recu = deadline - timedelta(hours=n - i + 1)
            statut = statuts[i % len(statuts)]
            canaux = ["courriel", "courrier"] if i % 3 == 0 else ["courriel"]
            dossier = Dossier(appel_id=appel.id, porteur_id=porteur.id, seq=i, numero=f"2018-{i:03d}", statut=statut,
                              canaux=canaux, pieces_manquantes=[] if statut is not DossierStatut.INCOMPLET else
                              ["envoi postal (courrier) non reçu"], motifs=[], recu_le=recu, mis_a_jour_le=recu,
                              avis=avis[i % 3] if statut is not DossierStatut.COMPLET else None,
                              constats=[{"gravite": "réserve", "texte": "frais de déplacement peu détaillés"}])
            s.add(dossier)
            s.flush()
            for rang, canal in enumerate(canaux, 1):
                depot = Depot(appel_id=appel.id, dossier_id=dossier.id, cle=f"bench:{i}:{rang}", canal=Canal(canal),
                              statut=DepotStatut.ENREGISTRE, recu_le=recu + timedelta(minutes=rang), recu_source="saisie",
                              hors_delai=False, rang=rang, expediteur=porteur.contact_email, motifs=[],
                              enregistre_le=recu)
                s.add(depot)
                s.flush()
                for k, (nom, nature) in enumerate([("dossier.xlsx", NaturePiece.FORMULAIRE), (f"CV_{i}_a.pdf", NaturePiece.CV),
                                                   (f"CV_{i}_b.pdf", NaturePiece.CV)]):
                    s.add(Piece(depot_id=depot.id, nom=nom, nature=nature, sha256=f"{i:032x}{rang:016x}{k:016x}",
                                taille=20_000 + k, chemin=f"pieces/{i}/{rang}/{k}", acceptee=True))
                att += 1
                numero = f"AAP-2018-{att:04d}"
                s.add(Attestation(appel_id=appel.id, depot_id=depot.id, seq=att, numero=numero, contenu={},
                                  emise_le=recu, chemin=f"attestations/2018/{numero}.docx"))
                s.add(Courriel(cle=f"attestation:{numero}", message_id=f"<{numero}@example.org>", appel_id=appel.id,
                               dossier_id=dossier.id, destinataires=[porteur.contact_email],
                               sujet=f"Attestation de dépôt {numero}", corps="…", pieces_jointes=[],
                               statut=CourrielStatut.SENT if att % 50 else CourrielStatut.FAILED, tentatives=1,
                               erreur=None if att % 50 else "550 boîte inconnue", cree_le=recu, envoye_le=recu))
            if i % 10 == 3:
                c = Convention(appel_id=appel.id, dossier_id=dossier.id, seq=i // 10 + 1, numero=f"CONV-2018-{i // 10 + 1:03d}",
                               statut=ConventionStatut.EN_COURS, debut=date(2018, 1, 1), fin=date(2018, 12, 31),
                               renouvellements=0, renouvellements_max=2, referents=[], etp=Decimal("1"),
                               budget_salaires=Decimal("44000"), budget_deplacements=Decimal("1000"),
                               budget_autres=Decimal("0"), ressources_fse=Decimal("22500"),
                               ressources_plie=Decimal("22500"), ressources_autres=Decimal("0"), etat_initial={},
                               signee_le=date(2017, 12, 28), etablie_le=recu)
                c.etat_initial = convention_state(c)
                s.add(c)
                s.flush()
                if i % 20 == 3:
                    c.renouvellements, c.fin = 1, date(2019, 12, 31)
                    s.add(Avenant(convention_id=c.id, ordre=1, numero=f"{c.numero}-A1", nature=AvenantNature.PROLONGATION,
                                  renouvellement=1, valide_le=date(2018, 11, 15), periode_debut=date(2019, 1, 1),
                                  periode_fin=date(2019, 12, 31), changements=["Période renouvelée"], etat=convention_state(c),
                                  signe_le=date(2018, 11, 29), etabli_le=recu))
                for nature, debut, fin, due in ((NatureEcheance.MI_PARCOURS, date(2018, 1, 1), date(2018, 6, 30), date(2018, 7, 30)),
                                                (NatureEcheance.FINAL, date(2018, 1, 1), date(2018, 12, 31), date(2019, 3, 1))):
                    s.add(Echeance(convention_id=c.id, nature=nature, periode_debut=debut, periode_fin=fin, due_le=due,
                                   jeton=f"{c.numero}-{nature.value}", demande_le=due - timedelta(days=45), relances=[]))
        for j in range(20):
            s.add(Depot(appel_id=appel.id, cle=f"bench:attente:{j}", canal=Canal.COURRIEL, statut=DepotStatut.NON_IDENTIFIE,
                        recu_le=deadline - timedelta(minutes=j), recu_source="received", hors_delai=False,
                        expediteur=f"inconnu{j}@example.org", motifs=["expéditeur inconnu"], enregistre_le=deadline))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--requetes", type=int, default=40)
    parser.add_argument("--postgresql", metavar="URL", help="a fresh, empty PostgreSQL database instead of SQLite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from fastapi.testclient import TestClient

    from actions.utilisateurs import add_user
    from flows.runtime import configure, get_settings
    from models.utilisateur import Role
    from web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="aap-bench-web-"))
    url = args.postgresql or f"sqlite:///{tmp}/aap.sqlite"
    rt = configure(get_settings().model_copy(update={"database_url": url, "storage_dir": tmp / "storage", "pdf": "off",
                                                      "web_secret": "clé du banc d'essai"}))
    started = time.monotonic()
    build(rt.factory, args.n)
    add_user(rt.factory, "banc", "mot de passe du banc", Role.GESTION, maintenant=datetime.now(UTC))
    built = time.monotonic() - started
    client = TestClient(create_app(rt, horloge=lambda: datetime(2019, 6, 1, 9, tzinfo=UTC)), follow_redirects=False)
    form = client.get("/connexion").text
    token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert client.post("/connexion", data={"identifiant": "banc", "mot_de_passe": "mot de passe du banc",
                                           "csrf": token}).status_code == 303
    results = []
    for name, path in PAGES:
        assert client.get(path).status_code == 200, path  # warm: templates compiled, caches filled
        times = []
        for _ in range(args.requetes):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, path
        times.sort()
        results.append({"page": name, "chemin": path, "mediane_ms": round(statistics.median(times), 1),
                        "p95_ms": round(times[max(0, int(round(0.95 * len(times))) - 1)], 1),
                        "octets": len(response.content)})
    if args.json:
        json.dump({"n": args.n, "base": "postgresql" if args.postgresql else "sqlite", "pages": results}, sys.stdout,
                  ensure_ascii=False, indent=2)
        print()
        return 0
    print(f"{args.n} dossiers ({'PostgreSQL' if args.postgresql else 'SQLite'}), écrits en {built:.1f} s ; "
          f"{args.requetes} requêtes par page.")
    print(f"{'page':<28} {'médiane':>9} {'p95':>9} {'taille':>9}")
    for r in results:
        flag = "" if r["p95_ms"] <= 150 else "  > 150 ms"
        print(f"{r['page']:<28} {r['mediane_ms']:>7.1f}ms {r['p95_ms']:>7.1f}ms {r['octets'] // 1024:>7} ko{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
