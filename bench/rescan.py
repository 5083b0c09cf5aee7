"""Benchmark of a re-scan: ``aap depots relever`` on a mailbox whose N messages are all handled already.

    python bench/rescan.py --n 10000 [--repeat 3] [--keep DIR] [--database-url URL]

Set-up, not timed: a fresh database (``aap appel publier``), a Maildir of N small messages (one
line of text each, every one from its own unknown sender), recorded as handled; then half of them
move from new/ to cur/ with a flag (``:2,S``), as a mail client that has read them would do.
Recording them through the intake (``--par-le-releve``) costs tens of milliseconds a message (a
worker's round trip and a transaction each); by default the first ``--reels`` go through
``register_mailbox`` and the rest are written in one transaction as it writes a message it keeps
for the SA — a non identifié dépôt, its ``reception`` and stored .eml — and their facts by the
intake's own ``remember_files``. Those dépôts are then rejected by the SA (they are not dossiers),
as a year's mail that is not a dossier would be: else each run's table of the dossiers and waiting
dépôts (``flows.comptes_rendus``) lists them all (``--en-attente`` keeps them waiting).

Timed, each the best of ``--repeat``:

- A: ``aap depots relever MAILDIR --appel 2018`` — the whole command, as the SA types it;
- A0: the same command on an empty Maildir — what the command costs before it reads a file;
- R: the re-scan alone, in this process (``iter_mailbox`` + ``register_mailbox``), imports done;
- S: a bare loop that lists the same folders and ``os.stat``s each file, nothing else.

A − A0 and R are the re-scan's work; S is the floor any re-scan pays. The bench checks that A
registered nothing new and counted every message as already registered (else exit 1). Figures only:
no target is asserted.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ANNEE = 2018
MAINTENANT = "2017-12-08T09:00"
DEBUT = datetime(2017, 11, 22, 8, 0, tzinfo=timezone.utc)
MESSAGE = (
    "Received: from relais.exemple.org by mx.plie.example.org; {date}\r\n"
    "From: Expediteur <expediteur{i}@exemple.org>\r\n"
    "To: plie-aap@example.org\r\n"
    "Subject: Question n {i}\r\n"
    "Message-ID: <question-{i}@exemple.org>\r\n"
    "Date: {date}\r\n"
    "\r\n"
    "Bonjour, une question sur l'appel a projets.\r\n"
)


def build_maildir(maildir: Path, n: int) -> None:
    """N small messages in ``maildir``/new, each named and dated as a delivery an hour apart."""
    from email.utils import format_datetime

    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        when = DEBUT + timedelta(seconds=60 * i)
        stamp = int(when.timestamp())
        path = maildir / "new" / f"{stamp}.M{i}P4242.bench.example.org"
        path.write_bytes(MESSAGE.format(i=i, date=format_datetime(when)).encode())
        os.utime(path, (stamp, stamp))


def read_half(maildir: Path) -> int:
    """Move every other message to cur/ with the « seen » flag, as a mail client does (rename: same mtime)."""
    moved = 0
    for k, path in enumerate(sorted((maildir / "new").iterdir())):
        if k % 2:
            path.rename(maildir / "cur" / f"{path.name}:2,S")
            moved += 1
    return moved


def record_handled(factory, storage, paths: list[Path], maintenant: datetime, *, en_attente: bool) -> None:
    """Each message as the intake keeps one it could not identify, all in one transaction: a non identifié
    dépôt (rejected by the SA unless ``en_attente``), its ``reception`` and its stored bytes; then the files'
    facts by ``remember_files``."""
    from sqlalchemy import select

    from actions.depots import NON_IDENTIFIE, remember_files
    from actions.lecture import FichierVu
    from adapters.database import transaction
    from adapters.mailbox import FICHIER, delivery_time, stable_name
    from models.appel import Appel, is_late
    from models.dossier import Canal, Depot, DepotStatut, Reception

    facts = []
    with transaction(factory) as session:
        appel = session.scalar(select(Appel).where(Appel.annee == ANNEE))
        for path in paths:
            st = path.stat()
            stored = storage.put_file("messages", path, ".eml")
            recu_le = delivery_time(path)
            motifs = [NON_IDENTIFIE] if en_attente else [NON_IDENTIFIE, "rejeté par l'assistante : pas un dossier"]
            depot = Depot(appel_id=appel.id, cle=f"raw:{stored.sha256}", canal=Canal.COURRIEL,
                          statut=DepotStatut.NON_IDENTIFIE if en_attente else DepotStatut.REJETE, recu_le=recu_le,
                          recu_source=FICHIER, hors_delai=is_late(recu_le, appel.date_limite), motifs=motifs,
                          enregistre_le=maintenant)
            session.add(depot)
            session.flush()
            session.add(Reception(appel_id=appel.id, sha256=stored.sha256, source=path.name, taille=stored.taille,
                                  chemin=stored.chemin, depot_id=depot.id, doublon=False, recu_le=recu_le))
            facts.append(FichierVu(stable_name(path), st.st_size, st.st_mtime_ns, stored.sha256))
    remember_files(factory, appel.id, facts)


def bare_stat(maildir: Path) -> tuple[float, int]:
    """List new/ and cur/ and ``os.stat`` each file: the floor of any re-scan."""
    start = time.perf_counter()
    count = 0
    for sub in ("new", "cur"):
        for entry in os.scandir(maildir / sub):
            os.stat(entry.path)
            count += 1
    return time.perf_counter() - start, count


def _aap() -> str:
    local = Path(sys.executable).parent / "aap"
    found = str(local) if local.exists() else shutil.which("aap")
    if not found:
        raise SystemExit("commande « aap » introuvable : installez le projet (pip install -e .)")
    return found


def _env(base: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AAP_DATABASE_URL": database_url,
        "AAP_STORAGE_DIR": str(base / "storage"),
        "AAP_PDF": "off",
        "AAP_SMTP_HOST": "127.0.0.1",
        "AAP_SMTP_PORT": "9",  # nothing is pending: the outbox never connects
        "PYTHONUNBUFFERED": "1",
    })
    env.setdefault("PREFECT_HOME", str(base / "prefect-home"))  # warmed by the (untimed) publication
    return env


def _fail(message: str, *details: str) -> None:
    sys.stderr.write(f"ÉCHEC : {message}\n" + "".join(f"{d.rstrip()}\n" for d in details if d))
    raise SystemExit(1)


def timed_command(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    run = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode:
        _fail(f"« {' '.join(cmd[1:3])} » a échoué (code {run.returncode})", run.stdout, run.stderr[-4000:])
    return elapsed, run.stdout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="messages déjà traités dans la boîte")
    parser.add_argument("--repeat", type=int, default=3, help="mesures de chaque commande (la meilleure est gardée)")
    parser.add_argument("--keep", type=Path, help="dossier de travail conservé (par défaut : temporaire, effacé)")
    parser.add_argument("--reels", type=int, default=200,
                        help="messages enregistrés par register_mailbox lors de la préparation (les autres en bloc)")
    parser.add_argument("--par-le-releve", action="store_true",
                        help="enregistrer tous les messages par register_mailbox (lent : plusieurs minutes pour 10 000)")
    parser.add_argument("--en-attente", action="store_true",
                        help="laisser en attente de l'assistante les messages enregistrés en bloc (au lieu de rejetés)")
    parser.add_argument("--database-url", help="base de l'application (par défaut : SQLite dans le dossier de travail)")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="aap-rescan-"))
    work.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or f"sqlite:///{work / 'aap.sqlite'}"
    env = _env(work, database_url)
    os.environ.update({k: v for k, v in env.items() if k.startswith("AAP_")})
    aap = _aap()
    try:
        print(f"Préparation (non mesurée) : {args.n} messages, base {database_url.split(':', 1)[0]}", flush=True)
        timed_command([aap, "appel", "publier", str(ROOT / "config/appels/2018.toml"), "--maintenant",
                       "2017-11-21T09:00"], env, work)
        maildir, empty = work / "boite", work / "boite-vide"
        build_maildir(maildir, args.n)
        build_maildir(empty, 0)

        from actions.depots import register_mailbox
        from adapters.database import session_factory
        from adapters.mailbox import iter_mailbox
        from adapters.storage import Storage
        from flows.runtime import parse_moment

        factory, storage = session_factory(database_url), Storage(work / "storage")
        start = time.perf_counter()
        paths = iter_mailbox(maildir)
        reels = paths if args.par_le_releve else paths[:args.reels]
        first = register_mailbox(factory, storage, ANNEE, reels, maintenant=parse_moment(MAINTENANT), workers=2)
        print(f"  premier relevé de {len(reels)} messages par register_mailbox : {first.non_identifies} en attente, "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        if len(reels) < len(paths):
            start = time.perf_counter()
            record_handled(factory, storage, paths[len(reels):], parse_moment(MAINTENANT), en_attente=args.en_attente)
            etat = " (en attente)" if args.en_attente else ", rejetés par l'assistante"
            print(f"  {len(paths) - len(reels)} autres enregistrés en une transaction{etat} : "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
        print(f"  {read_half(maildir)} messages passés de new/ à cur/ (« :2,S »)", flush=True)

        command = [aap, "depots", "relever", str(maildir), "--appel", str(ANNEE), "--maintenant", MAINTENANT]
        a, a0, r, s = [], [], [], []
        for _ in range(args.repeat):
            elapsed, out = timed_command(command, env, work)
            found = re.search(r"nouveaux dépôts : (\d+).*déjà enregistrés : (\d+)", out)
            if not found or found.groups() != ("0", str(args.n)):
                _fail("le second relevé devait tout trouver déjà enregistré", out)
            a.append(elapsed)
            a0.append(timed_command([*command[:3], str(empty), *command[4:]], env, work)[0])
            start = time.perf_counter()
            again = register_mailbox(factory, storage, ANNEE, iter_mailbox(maildir),
                                     maintenant=parse_moment(MAINTENANT))
            r.append(time.perf_counter() - start)
            if again.deja_vus != args.n or again.depots:
                _fail(f"re-lecture en place : {again.deja_vus} déjà vus, {again.depots} nouveaux pour {args.n}")
            elapsed, count = bare_stat(maildir)
            s.append(elapsed)
            if count != args.n:
                _fail(f"boucle os.stat : {count} fichiers pour {args.n}")
        print()
        print(f"Second relevé de {args.n} messages déjà traités (meilleur de {args.repeat}) :")
        print(f"  A   aap depots relever, commande entière   {min(a):8.2f} s")
        print(f"  A0  même commande, boîte vide              {min(a0):8.2f} s")
        print(f"      A − A0 : travail du re-relevé          {min(a) - min(a0):8.2f} s")
        print(f"  R   re-relevé seul, dans ce processus      {min(r):8.3f} s")
        print(f"  S   boucle nue os.stat sur les fichiers    {min(s):8.3f} s")
        print(f"      R / S                                  {min(r) / min(s):8.1f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
