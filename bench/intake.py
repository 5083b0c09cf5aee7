"""Benchmark of the intake: ``aap depots relever`` against a bare single-process loop.

    python bench/intake.py --n 500 [--pdf] [--keep DIR] [--json]

Generates N dépôts (distinct porteurs, valid SIRETs, a filled dossier de réponse and 1–2 CV PDFs
each) in a Maildir, starts a local SMTP sink, then measures, each as a whole command with its
start-up:

- A: ``aap depots relever MAILDIR --appel 2018 --maintenant 2017-12-08T09:00`` on a fresh
  database published beforehand (``aap appel publier``, not timed); by default without any Prefect server
  (the stage runs in the command's process), with ``--serveur-prefect`` against a ``prefect server start``
  started once beforehand (not timed), ``PREFECT_API_URL`` set, as in production;
- B: ``python bench/intake.py --bare …``: one process, one loop, for each message: parse it, hash
  and store its files, read the form, render the attestation, insert a row; the attestation
  e-mails go over one SMTP connection at the end, as A's outbox does.

Memory is sampled from /proc every 50 ms over the command's process tree (the Prefect server
and the rendering workers included): the peak of the summed RSS and the largest single process.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ANNEE = 2018
MAINTENANT = "2017-12-08T09:00"
TARGET_RATIO = 0.9
TARGET_RSS_MB = 400
POLL_SECONDS = 0.05
SUBJECT_MARK = "Attestation de dépôt n° AAP-2018-"
PAGE = os.sysconf("SC_PAGE_SIZE")

PREFIXES = ("Association", "Régie de quartier", "Chantier d'insertion", "Entreprise d'insertion",
            "Atelier", "Coopérative", "Mission locale", "Groupement d'employeurs")
LIEUX = ("Valmont", "Bourg-sur-Lac", "Saint-Aubin-les-Prés", "Vernelle", "Montclair", "Haute-Rive", "Les Aulnes",
         "Sainte-Colombe-du-Val", "Beaumesnil", "Villers-la-Source")
PRENOMS = ("Sophie", "Karim", "Lucie", "Yann", "Paul", "Emma", "Hugo", "Éloïse", "Nora", "Marc", "Inès", "Théo")
NOMS = ("Durand", "Petit", "Bernard", "Moreau", "Garnier", "Roux", "Faure", "Lefèvre", "Blanc", "Girard")


# --------------------------------------------------------------------------- sample dépôts


def sample_porteur(n: int):
    """The n-th porteur: its own name, SIRET (valid Luhn key), address, 1 or 2 référents."""
    from flows.demo_data import SamplePorteur, luhn_siret

    nom = f"{PREFIXES[n % len(PREFIXES)]} {LIEUX[n % len(LIEUX)]} n° {n}"
    referents = tuple(
        (NOMS[(n + i) % len(NOMS)], PRENOMS[(n * 3 + i) % len(PRENOMS)], "1" if i == 0 else "0.5",
         "44000.00" if i == 0 else "22000.00")
        for i in range(1 + n % 2)
    )
    return SamplePorteur(nom=nom, siret=luhn_siret(f"{410000000 + n:09d}0001"),
                         email=f"contact{n}@structure{n}.example.org", referents=referents)


def _write_message(job: tuple[int, int, str, str]) -> None:
    """Fill the porteur's form and deliver its dépôt (runs in a worker process)."""
    from adapters.eml_samples import build_depot_email, write_maildir_message
    from flows.demo_data import PARIS, cv_name, cv_pdf
    from forms.dossier_reponse import fill_dossier_reponse

    n, total, blank, maildir = job
    p = sample_porteur(n)
    form = fill_dossier_reponse(Path(blank), Path(maildir).parent / "formulaires" / f"{p.siret}.xlsx", p.formulaire())
    start, end = datetime(2017, 11, 21, 9, 0, tzinfo=PARIS), datetime(2017, 12, 7, 16, 0, tzinfo=PARIS)
    when = start + (end - start) * (n / max(total, 1))
    attachments = [(f"Dossier_reponse_{p.siret}.xlsx", form.read_bytes())]
    attachments += [(cv_name(pr, nm), cv_pdf(f"Curriculum vitae - {pr} {nm}")) for nm, pr, _, _ in p.referents]
    raw = build_depot_email(
        sender=p.email, sender_name=p.nom, to="plie-aap@example.org",
        subject=f"Réponse à l'appel à projets PLIE {ANNEE} — {p.nom}", received_at=when,
        message_id=f"<depot-{n}@structure{n}.example.org>", attachments=attachments,
    )
    write_maildir_message(Path(maildir), raw, delivered_at=when)


def build_maildir(maildir: Path, blank: Path, n: int) -> None:
    """N dépôts in ``maildir`` (forms filled on every core)."""
    from concurrent.futures import ProcessPoolExecutor

    (maildir.parent / "formulaires").mkdir(parents=True, exist_ok=True)
    jobs = [(i, n, str(blank), str(maildir)) for i in range(1, n + 1)]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(_write_message, jobs, chunksize=8))


# --------------------------------------------------------------------------- measuring


@dataclass
class Measure:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    cpu_seen_seconds: float = 0.0
    returncode: int = 0
    peak_rss_sum_mb: float = 0.0
    peak_pss_sum_mb: float = 0.0
    largest_mb: float = 0.0
    largest_process: str = ""
    processes: int = 0
    stdout: str = ""
    stderr: str = ""
    top: list[dict] = field(default_factory=list)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree(root: int) -> list[int]:
    children, found, todo = _children_map(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _kb_fields(path: str, names: tuple[bytes, ...]) -> dict[bytes, int]:
    """The named ``Field:  123 kB`` lines of a /proc file; empty once the process is gone."""
    found: dict[bytes, int] = {}
    try:
        with open(path, "rb") as fh:
            for line in fh:
                key = line.split(b":", 1)[0]
                if key in names:
                    found[key] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return {}
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            parts = fh.read().split(b"\0")
    except OSError:
        return "?"
    return " ".join(p.decode(errors="replace") for p in parts if p)[:160]


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


class TreeMonitor(threading.Thread):
    """Samples a process tree every 50 ms: summed RSS, each process's peak (VmHWM), and every
    fifth sample the summed PSS (shared pages, e.g. of forked workers, counted once)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.hwm: dict[int, int] = {}
        self.cpu_ticks: dict[int, int] = {}  # utime + stime of each process, as last seen
        self.names: dict[int, str] = {}
        self._samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(POLL_SECONDS)

    def sample(self) -> None:
        rss_total = pss_total = 0
        with_pss = self._samples % 5 == 0
        self._samples += 1
        for pid in _tree(self.root):
            status = _kb_fields(f"/proc/{pid}/status", (b"VmRSS", b"VmHWM"))
            if not status.get(b"VmRSS"):  # gone, or a zombie
                continue
            rss_total += status[b"VmRSS"]
            if pid not in self.names:
                self.names[pid] = _cmdline(pid)
            self.hwm[pid] = max(status.get(b"VmHWM", 0), self.hwm.get(pid, 0))
            self.cpu_ticks[pid] = max(_cpu_ticks(pid), self.cpu_ticks.get(pid, 0))
            if with_pss:
                pss_total += _kb_fields(f"/proc/{pid}/smaps_rollup", (b"Pss",)).get(b"Pss", status[b"VmRSS"])
        self.peak_rss_kb = max(self.peak_rss_kb, rss_total)
        self.peak_pss_kb = max(self.peak_pss_kb, pss_total)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> Measure:
    """Run ``cmd`` to its end: wall time from spawn to exit, CPU and memory of its whole tree."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
    monitor = TreeMonitor(proc.pid)
    monitor.start()
    _, status, usage = os.wait4(proc.pid, 0)  # usage: the command and every descendant it waited for
    seconds = time.perf_counter() - start
    monitor.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0), err.seek(0)
    ranked = sorted(monitor.hwm.items(), key=lambda kv: kv[1], reverse=True)
    seen_kb = ranked[0][1] if ranked else 0
    largest_kb = max(usage.ru_maxrss, seen_kb)
    return Measure(
        seconds=seconds, cpu_seconds=usage.ru_utime + usage.ru_stime, returncode=proc.returncode,
        cpu_seen_seconds=max(sum(monitor.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK"), usage.ru_utime + usage.ru_stime),
        peak_rss_sum_mb=max(monitor.peak_rss_kb, largest_kb) / 1024,
        peak_pss_sum_mb=monitor.peak_pss_kb / 1024, largest_mb=largest_kb / 1024,
        largest_process=monitor.names[ranked[0][0]] if ranked and seen_kb >= usage.ru_maxrss else "(vu par wait4 seulement)",
        processes=len(monitor.hwm), stdout=out.read().decode(errors="replace"),
        stderr=err.read().decode(errors="replace"),
        top=[{"pid": pid, "peak_mb": round(kb / 1024, 1), "cmd": monitor.names[pid]} for pid, kb in ranked[:6]],
    )


# --------------------------------------------------------------------------- the bare loop (B)


def run_bare(maildir: Path, out: Path, smtp_port: int, pdf: bool) -> dict:
    """Per message: parse, hash + store the files, read the form, render the attestation, insert a row.

    The e-mails are built as each dépôt is done and sent at the end over one SMTP connection
    (what A's outbox does); with ``pdf``, one LibreOffice batch converts every attestation first.
    SQLite gets A's settings (WAL, synchronous=NORMAL) and one commit per dépôt.
    """
    from adapters.mailbox import iter_mailbox, parse_message
    from adapters.smtp import MailSettings, OutgoingMail, make_message_id, send_batch
    from adapters.storage import Storage
    from config.appel_config import load_appel_config
    from forms.dossier_reponse import read_dossier_reponse
    from templates.attestation import AttestationData, PieceLine, attestation_context
    from templates.mails import render_mail
    from templates.render import render_attestation

    cfg = load_appel_config(ANNEE)
    date_limite = cfg.date_limite_utc()
    emis_le = datetime.fromisoformat(MAINTENANT).replace(tzinfo=cfg.tz)
    storage = Storage(out / "storage")
    folder = storage.ensure_dir(f"attestations/{ANNEE}")
    db = sqlite3.connect(out / "bare.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS depot (id INTEGER PRIMARY KEY, numero TEXT UNIQUE, siret TEXT, "
               "porteur TEXT, expediteur TEXT, recu_le TEXT, pieces TEXT, attestation TEXT)")
    mails: list[OutgoingMail] = []
    for seq, path in enumerate(iter_mailbox(maildir), start=1):
        msg = parse_message(path)
        lines, form = [], None
        for a in msg.attachments:
            extension = a.filename.rsplit(".", 1)[-1].lower()
            stored = storage.put_blob("pieces", a.content, f".{extension}")
            lines.append(PieceLine(a.filename, stored.taille, stored.sha256, "acceptée"))
            if extension == "xlsx" and form is None:
                form = read_dossier_reponse(a.content, filename=a.filename)
        assert form is not None, path
        numero = f"AAP-{ANNEE}-{seq:04d}"
        data = AttestationData(
            numero=numero, appel_titre=cfg.appel.titre, appel_annee=ANNEE, porteur_nom=form.porteur_nom,
            porteur_siret=form.porteur_siret, porteur_adresse=form.porteur_adresse, canal="courriel",
            recu_le=msg.received_at, date_limite=date_limite, hors_delai=msg.received_at > date_limite,
            canaux_recus=("courriel",), canaux_attendus=("courrier",), pieces=tuple(lines),
            manquants=("envoi postal (courrier) non reçu",), complement=False, version=1, emis_le=emis_le,
        )
        document = render_attestation(data, folder / f"{numero}.docx")
        subject, body = render_mail("attestation_depot", attestation_context(data))
        to = tuple(sorted({a for a in (msg.sender_address, form.contact_email.lower()) if a}))
        key = f"attestation:{numero}"
        mails.append(OutgoingMail(key=key, to=to, subject=subject, body=body, message_id=make_message_id(key),
                                  attachments=(document,)))
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO depot (numero, siret, porteur, expediteur, recu_le, pieces, attestation) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (numero, form.porteur_siret, form.porteur_nom, msg.sender_address, msg.received_at.isoformat(),
                    json.dumps([asdict(p) for p in lines]), str(document.relative_to(storage.root))))
        db.execute("COMMIT")
    converted = 0
    if pdf:
        from adapters.pdf import convert_to_pdf

        done = convert_to_pdf([m.attachments[0] for m in mails], folder)
        converted = len(done)
        mails = [OutgoingMail(m.key, m.to, m.subject, m.body, m.message_id, (done.get(m.attachments[0], m.attachments[0]),))
                 for m in mails]
    sent, failed = [0], []

    def on_result(mail: OutgoingMail, error: str | None) -> None:
        if error is None:
            sent[0] += 1
        else:
            failed.append(f"{mail.key} : {error}")

    send_batch(MailSettings(host="127.0.0.1", port=smtp_port, sender="PLIE <plie@example.org>"),
               mails, on_result)
    rows = db.execute("SELECT count(*) FROM depot").fetchone()[0]
    db.close()
    return {"depots": rows, "envoyes": sent[0], "echecs": failed[:5], "pdf": converted}


# --------------------------------------------------------------------------- the comparison


def _aap() -> str:
    local = Path(sys.executable).parent / "aap"
    found = str(local) if local.exists() else shutil.which("aap")
    if not found:
        raise SystemExit("commande « aap » introuvable : installez le projet (pip install -e .)")
    return found


def _env(base: Path, smtp_port: int, pdf: bool, api_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if api_url:  # A talks to a Prefect server already running, as in production
        env["PREFECT_API_URL"] = api_url
    env.update({
        "AAP_DATABASE_URL": f"sqlite:///{base / 'aap.sqlite'}",
        "AAP_STORAGE_DIR": str(base / "storage"),
        "AAP_SMTP_HOST": "127.0.0.1",
        "AAP_SMTP_PORT": str(smtp_port),
        "AAP_PDF": "auto" if pdf else "off",
        "PREFECT_HOME": str(base / "prefect-home"),  # warmed by the (untimed) publication
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _count_mails(sink) -> int:
    return sum(1 for m in sink.messages() if SUBJECT_MARK in str(m["Subject"]))


def _count_depots(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM depot WHERE statut = 'enregistré'").fetchone()[0]


def _fail(message: str, *details: str) -> None:
    sys.stderr.write(f"ÉCHEC : {message}\n" + "".join(f"{d.rstrip()}\n" for d in details if d))
    raise SystemExit(1)


def _publish(aap: str, env: dict[str, str], cwd: Path) -> Path:
    """``aap appel publier`` on a fresh database (untimed); returns the blank form it produced."""
    pub = subprocess.run([aap, "appel", "publier", str(ROOT / "config/appels/2018.toml"), "--maintenant",
                          "2017-11-21T09:00"], env=env, cwd=cwd, capture_output=True, text=True)
    found = re.search(r"Dossier de réponse : (.+)", pub.stdout)
    if pub.returncode or not found:
        _fail("« aap appel publier » a échoué", pub.stdout, pub.stderr)
    return Path(found.group(1).strip())


def _run_a(aap: str, maildir: Path, base: Path, n: int, pdf: bool, api_url: str | None = None) -> tuple[Measure, int, int]:
    """One timed ``aap depots relever`` on a freshly published database, checked."""
    from adapters.smtp_sink import SmtpSink

    with SmtpSink(base / "sink") as sink:
        env = _env(base, sink.port, pdf, api_url)
        if not (base / "aap.sqlite").exists():
            _publish(aap, env, base)
        m = measure([aap, "depots", "relever", str(maildir), "--appel", str(ANNEE), "--maintenant", MAINTENANT],
                    env, base)
        if m.returncode:
            _fail(f"« aap depots relever » a échoué (code {m.returncode})", m.stdout, m.stderr[-4000:])
        depots, mails = _count_depots(base / "aap.sqlite"), _count_mails(sink)
    if depots != n or mails != n:
        _fail(f"A : {depots} dépôts enregistrés et {mails} attestations reçues par le serveur SMTP "
              f"pour {n} messages", m.stdout, m.stderr[-4000:])
    return m, depots, mails


def _run_b(maildir: Path, base: Path, n: int, pdf: bool) -> tuple[Measure, int, int]:
    """One timed bare loop (this file with ``--bare``) into fresh folders, checked."""
    from adapters.smtp_sink import SmtpSink

    with SmtpSink(base / "sink") as sink:
        m = measure([sys.executable, str(Path(__file__).resolve()), "--bare", "--maildir", str(maildir),
                     "--out", str(base), "--smtp-port", str(sink.port), *(["--pdf"] if pdf else [])],
                    _env(base, sink.port, pdf), base)
        if m.returncode:
            _fail(f"la boucle simple a échoué (code {m.returncode})", m.stdout, m.stderr[-4000:])
        report, mails = json.loads(m.stdout.strip().splitlines()[-1]), _count_mails(sink)
    if report["depots"] != n or mails != n:
        _fail(f"B : {report['depots']} lignes et {mails} attestations reçues pour {n} messages", m.stdout, m.stderr)
    return m, report["depots"], mails


@contextmanager
def prefect_server(work: Path) -> Iterator[str]:
    """A ``prefect server start`` on loopback, started and stopped outside the timings."""
    from adapters.smtp_sink import find_free_port

    port = find_free_port()
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect-server"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false"}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(900):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            _fail("le serveur Prefect n'a pas démarré", "", "")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def compare(n: int, pdf: bool, work: Path, repeat: int = 1, server: bool = False, boite: Path | None = None) -> dict:
    if server:
        with prefect_server(work) as url:
            return _compare(n, pdf, work, repeat, url, boite)
    return _compare(n, pdf, work, repeat, None, boite)


def _compare(n: int, pdf: bool, work: Path, repeat: int, api_url: str | None, boite: Path | None = None) -> dict:
    """Generate the dépôts (or take those of ``boite``), then time A and B alternately ``repeat`` times; keep
    each one's best."""
    aap = _aap()
    maildir = boite or work / "boite-depots"
    first = work / "a1"
    first.mkdir(parents=True)
    t = time.perf_counter()
    if boite is None:
        blank = _publish(aap, _env(first, 25, pdf), first)
        build_maildir(maildir, blank, n)
    else:
        n = sum(1 for _ in (boite / "new").iterdir()) + sum(1 for _ in (boite / "cur").iterdir())
    generated = time.perf_counter() - t
    runs_a, runs_b = [], []
    for r in range(1, repeat + 1):
        for base in (work / f"a{r}", work / f"b{r}"):
            base.mkdir(parents=True, exist_ok=True)
        runs_a.append(_run_a(aap, maildir, work / f"a{r}", n, pdf, api_url))
        runs_b.append(_run_b(maildir, work / f"b{r}", n, pdf))
    best_a = min(runs_a, key=lambda run: run[0].seconds)
    best_b = min(runs_b, key=lambda run: run[0].seconds)
    ratio = best_a[0].seconds / best_b[0].seconds
    peak = max(m.peak_rss_sum_mb for m, _, _ in runs_a + runs_b)
    return {
        "n": n, "pdf": pdf, "repeat": repeat, "prefect": "serveur déjà lancé (PREFECT_API_URL)" if api_url else "aucun serveur (passage exécuté sur place)", "generation_s": round(generated, 1), "ratio": round(ratio, 3),
        "ratio_cpu": round(best_a[0].cpu_seen_seconds / best_b[0].cpu_seen_seconds, 3),
        "target_ratio": TARGET_RATIO, "target_rss_mb": TARGET_RSS_MB,
        "ok": ratio <= TARGET_RATIO and peak <= TARGET_RSS_MB,
        "load_average": os.getloadavg(), "cpus": os.cpu_count(),
        "a": _summary(*best_a, n), "b": _summary(*best_b, n),
        "a_seconds_all": [round(m.seconds, 2) for m, _, _ in runs_a],
        "b_seconds_all": [round(m.seconds, 2) for m, _, _ in runs_b],
        "a_output": best_a[0].stdout.strip().splitlines(), "work": str(work),
    }


def _summary(m: Measure, depots: int, mails: int, n: int) -> dict:
    return {
        "seconds": round(m.seconds, 2), "cpu_seconds": round(m.cpu_seconds, 2),
        "cpu_seen_seconds": round(m.cpu_seen_seconds, 2),
        "ms_per_depot": round(1000 * m.seconds / n, 1),
        "peak_rss_sum_mb": round(m.peak_rss_sum_mb, 1), "peak_pss_sum_mb": round(m.peak_pss_sum_mb, 1),
        "largest_process_mb": round(m.largest_mb, 1), "largest_process": m.largest_process,
        "processes": m.processes, "depots": depots, "mails": mails, "top_processes": m.top,
    }


def print_table(r: dict) -> None:
    a, b = r["a"], r["b"]
    rows = [
        ("", "A : aap depots relever", "B : boucle simple"),
        ("temps (s)", f"{a['seconds']:.2f}", f"{b['seconds']:.2f}"),
        ("temps CPU, processus et enfants (s)", f"{a['cpu_seconds']:.2f}", f"{b['cpu_seconds']:.2f}"),
        ("temps CPU, tous les processus vus (s)", f"{a['cpu_seen_seconds']:.2f}", f"{b['cpu_seen_seconds']:.2f}"),
        ("ms par dépôt", f"{a['ms_per_depot']:.1f}", f"{b['ms_per_depot']:.1f}"),
        ("RSS crête, somme des processus (Mo)", f"{a['peak_rss_sum_mb']:.0f}", f"{b['peak_rss_sum_mb']:.0f}"),
        ("PSS crête, somme (Mo)", f"{a['peak_pss_sum_mb']:.0f}", f"{b['peak_pss_sum_mb']:.0f}"),
        ("RSS crête, plus gros processus (Mo)", f"{a['largest_process_mb']:.0f}", f"{b['largest_process_mb']:.0f}"),
        ("processus vus", str(a["processes"]), str(b["processes"])),
        ("dépôts enregistrés", str(a["depots"]), str(b["depots"])),
        ("attestations reçues (SMTP)", str(a["mails"]), str(b["mails"])),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print(f"Relève de {r['n']} dépôts, attestations {'PDF' if r['pdf'] else '.docx'}, Prefect : {r['prefect']} ; "
          f"{r['cpus']} processeurs, "
          f"charge {r['load_average'][0]:.1f} ; génération des messages : {r['generation_s']} s (non comptée)")
    if r["repeat"] > 1:
        print(f"  meilleur de {r['repeat']} essais — A : {r['a_seconds_all']} s ; B : {r['b_seconds_all']} s")
    for row in rows:
        print(f"  {row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}")
    print(f"  rapport A/B : {r['ratio']:.2f} (cible ≤ {TARGET_RATIO}) — "
          f"{'OK' if r['ratio'] <= TARGET_RATIO else 'AU-DESSUS DE LA CIBLE'} ; en temps CPU : {r['ratio_cpu']:.2f}")
    peak = max(a["peak_rss_sum_mb"], b["peak_rss_sum_mb"])
    print(f"  RSS crête (somme) : {peak:.0f} Mo (cible ≤ {TARGET_RSS_MB} Mo) — "
          f"{'OK' if peak <= TARGET_RSS_MB else 'AU-DESSUS DE LA CIBLE'}")
    for p in a["top_processes"][:4]:
        print(f"    A, {p['peak_mb']:>6.0f} Mo : {p['cmd'][:100]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="nombre de dépôts (500)")
    parser.add_argument("--pdf", action="store_true", help="attestations converties en PDF (LibreOffice)")
    parser.add_argument("--keep", type=Path, help="garder les fichiers dans ce dossier (vide ou absent)")
    parser.add_argument("--repeat", type=int, default=1, help="mesurer A et B tour à tour k fois, garder le meilleur")
    parser.add_argument("--json", action="store_true", help="sortie JSON")
    parser.add_argument("--serveur-prefect", action="store_true",
                        help="A parle à un serveur Prefect lancé une fois avant les mesures (PREFECT_API_URL, comme "
                             "en production) au lieu de s'exécuter sur place")
    parser.add_argument("--boite", type=Path, help="reprendre les messages d'une boîte déjà générée (--keep d'un essai "
                        "précédent, dossier boite-depots) au lieu de les générer ; --n est alors leur nombre")
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--maildir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare:
        print(json.dumps(run_bare(args.maildir, args.out, args.smtp_port, args.pdf)))
        return
    if args.pdf and not shutil.which("soffice"):
        raise SystemExit("--pdf : LibreOffice (soffice) absent")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            raise SystemExit(f"--keep : le dossier {args.keep} n'est pas vide")
        result = compare(args.n, args.pdf, args.keep.resolve(), args.repeat, args.serveur_prefect, args.boite)
    else:
        with tempfile.TemporaryDirectory(prefix="aap-bench-") as tmp:
            result = compare(args.n, args.pdf, Path(tmp), args.repeat, args.serveur_prefect, args.boite)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_table(result)
    if not result["ok"]:
        sys.exit(2)


if __name__ == "__main__":
    main()
