"""Benchmark of the commands' start-up: each main ``aap`` command on a small database, beside ``python -c pass``.

    python bench/commands.py [--repeat 3] [--keep DIR] [--json]

It builds a small year, which is not timed: the call published, 6 dépôts received by mail and registered
(``aap depots relever``), on a fresh SQLite database, storage and ``PREFECT_HOME``, documents in .docx
(``AAP_PDF=off``), a local SMTP server. Then it times each command as a user types it, the whole process from
spawn to exit, each the best of ``--repeat``:

- ``appel publier`` (already published: nothing to do), ``depots relever`` on an empty Maildir, ``dossiers``,
  ``instruire`` (the 6 dossiers, their notes), ``comite preparer`` (synthèse, recueil), ``conventions``,
  ``echeancier``, ``courriels``, ``passages``;
- ``--help``, ``depots relever --help``, a refused argument (``dossiers --appel deux-mille``), an unknown
  command.

It prints each time, the bare start-up of the same interpreter (``python -c pass``), and the difference. The
commands do a little work on this small database; the target is that each costs at most 2 s more than the bare
start-up (``TARGET_OVERHEAD_S``): start-up, imports, settings, database and stage bookkeeping included. It exits
with code 2 if a command misses it, 1 if a command fails.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_OVERHEAD_S = 2.0
DEPOTS = 6
MAINTENANT = "2017-12-08T09:00"

COMMANDS: list[tuple[str, list[str], int]] = [  # label, arguments, expected exit code
    ("appel publier (déjà publié)", ["appel", "publier", "2018", "--maintenant", "2017-11-21T09:00"], 0),
    ("depots relever (boîte vide)", ["depots", "relever", "{vide}", "--appel", "2018", "--maintenant", MAINTENANT], 0),
    ("dossiers", ["dossiers", "--appel", "2018"], 0),
    ("instruire", ["instruire", "--appel", "2018", "--maintenant", "2017-12-12T09:00"], 0),
    ("comite preparer", ["comite", "preparer", "--appel", "2018", "--sortie", "{sortie}", "--maintenant",
                         "2017-12-15T09:00"], 0),
    ("conventions", ["conventions"], 0),
    ("echeancier", ["echeancier", "--maintenant", "2017-12-15T09:00"], 0),
    ("courriels", ["courriels"], 0),
    ("passages", ["passages"], 0),
    ("--help", ["--help"], 0),
    ("depots relever --help", ["depots", "relever", "--help"], 0),
    ("argument refusé", ["dossiers", "--appel", "deux-mille"], 2),
    ("commande inconnue", ["nimporte"], 2),
]


def _aap() -> str:
    local = Path(sys.executable).parent / "aap"
    if not local.exists():
        raise SystemExit("commande « aap » introuvable à côté de cet interpréteur : installez le projet (make.py)")
    return str(local)


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def build_year(work: Path, smtp_port: int) -> dict[str, str]:
    """The small year the commands run on (untimed); returns their environment."""
    from bench.intake import _write_message

    env = {**os.environ, "AAP_DATABASE_URL": f"sqlite:///{work / 'aap.sqlite'}", "AAP_STORAGE_DIR": str(work / "storage"),
           "AAP_SMTP_HOST": "127.0.0.1", "AAP_SMTP_PORT": str(smtp_port), "AAP_PDF": "off",
           "PREFECT_HOME": str(work / "prefect-home"), "PYTHONUNBUFFERED": "1"}
    env.pop("PREFECT_API_URL", None)  # the embedded default: a command runs its stage at once
    aap = _aap()
    pub = subprocess.run([aap, "appel", "publier", str(ROOT / "config/appels/2018.toml"), "--maintenant",
                          "2017-11-21T09:00"], env=env, cwd=work, capture_output=True, text=True)
    found = re.search(r"Dossier de réponse : (.+)", pub.stdout)
    if pub.returncode or not found:
        raise SystemExit(f"ÉCHEC : « aap appel publier » a échoué\n{pub.stdout}\n{pub.stderr}")
    maildir = work / "boite"
    (work / "formulaires").mkdir()
    for n in range(1, DEPOTS + 1):
        _write_message((n, DEPOTS, found.group(1).strip(), str(maildir)))
    releve = subprocess.run([aap, "depots", "relever", str(maildir), "--appel", "2018", "--maintenant", MAINTENANT],
                            env=env, cwd=work, capture_output=True, text=True)
    if releve.returncode:
        raise SystemExit(f"ÉCHEC : la relève de préparation a échoué\n{releve.stdout}\n{releve.stderr}")
    for folder in ("new", "cur", "tmp"):
        (work / "vide" / folder).mkdir(parents=True, exist_ok=True)
    (work / "sortie").mkdir()
    return env


def measure(work: Path, repeat: int) -> dict:
    from adapters.smtp_sink import SmtpSink

    aap = _aap()
    with SmtpSink(work / "sink") as sink:
        env = build_year(work, sink.port)
        bare = min(_timed([sys.executable, "-c", "pass"], env, work)[0] for _ in range(max(3, repeat)))
        rows = []
        for label, args, expected in COMMANDS:
            args = [a.format(vide=work / "vide", sortie=work / "sortie") for a in args]
            best, proc = None, None
            for _ in range(repeat):
                seconds, proc = _timed([aap, *args], env, work)
                best = seconds if best is None else min(best, seconds)
            rows.append({"commande": label, "arguments": args, "secondes": round(best, 3),
                         "au_dela_du_demarrage": round(best - bare, 3), "code": proc.returncode, "attendu": expected,
                         "sortie": (proc.stdout + proc.stderr).strip().splitlines()[-1:] if proc else []})
    failed = [r for r in rows if r["code"] != r["attendu"]]
    slow = [r for r in rows if r["au_dela_du_demarrage"] > TARGET_OVERHEAD_S]
    return {"python_c_pass": round(bare, 3), "commandes": rows, "target_overhead_s": TARGET_OVERHEAD_S,
            "echecs": [r["commande"] for r in failed], "au_dessus": [r["commande"] for r in slow],
            "load_average": os.getloadavg(), "cpus": os.cpu_count(), "repeat": repeat}


def print_table(r: dict) -> None:
    print(f"Démarrage des commandes sur une petite base ({DEPOTS} dépôts), meilleur de {r['repeat']} ; "
          f"{r['cpus']} processeurs, charge {r['load_average'][0]:.1f} ; python -c pass : {r['python_c_pass']:.2f} s")
    width = max(len(c["commande"]) for c in r["commandes"])
    print(f"  {'commande':<{width}}  {'temps (s)':>9}  {'au-delà (s)':>11}  code")
    for c in r["commandes"]:
        mark = "" if c["au_dela_du_demarrage"] <= TARGET_OVERHEAD_S else "  AU-DESSUS DE LA CIBLE"
        code = str(c["code"]) if c["code"] == c["attendu"] else f"{c['code']} (attendu {c['attendu']}) ÉCHEC"
        print(f"  {c['commande']:<{width}}  {c['secondes']:>9.2f}  {c['au_dela_du_demarrage']:>11.2f}  {code}{mark}")
    print(f"  cible : au plus {TARGET_OVERHEAD_S:.0f} s au-delà du démarrage de python — "
          + ("OK" if not r["au_dessus"] else f"manquée pour : {', '.join(r['au_dessus'])}"))
    for c in r["commandes"]:
        if c["code"] != c["attendu"]:
            print(f"    {c['commande']} : {' '.join(c['sortie'])[:300]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="mesurer chaque commande k fois, garder la meilleure (3)")
    parser.add_argument("--keep", type=Path, help="garder les fichiers dans ce dossier (vide ou absent)")
    parser.add_argument("--json", action="store_true", help="sortie JSON")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            raise SystemExit(f"--keep : le dossier {args.keep} n'est pas vide")
        result = measure(args.keep.resolve(), args.repeat)
    else:
        with tempfile.TemporaryDirectory(prefix="aap-bench-commandes-") as tmp:
            result = measure(Path(tmp), args.repeat)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_table(result)
    if result["echecs"]:
        sys.exit(1)
    if result["au_dessus"]:
        sys.exit(2)


if __name__ == "__main__":
    main()
