"""The long-lived LibreOffice of a process: reused, restarted, timed out, never left behind, or replaced by
``soffice --convert-to`` where the system's Python has no uno."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from adapters import libreoffice, pdf
from adapters.pdf import convert_to_pdf, soffice_path

ROOT = Path(__file__).resolve().parents[2]


def require_uno() -> None:
    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) absent : conversion PDF non testable ici")
    if subprocess.run([libreoffice.UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode != 0:
        pytest.skip(f"{libreoffice.UNO_PYTHON} sans uno (python3-uno) : pas de LibreOffice de longue durée")


def document(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document()
    doc.add_paragraph(text)
    doc.save(str(path))
    return path


def pdf_text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def living(marker: str) -> list[int]:
    """Pids of the processes (zombies aside) whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def gone_within(marker: str, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := living(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from adapters import libreoffice, pdf
    out = Path(sys.argv[1])
    seen = []
    for name in ("un", "deux"):
        done = pdf.convert_to_pdf([out / f"{name}.docx"], out / "pdf")
        office = libreoffice._SERVERS[os.getpid()]
        seen.append({"pdf": len(done), "pgid": office.pgid, "starts": office.starts})
    print(json.dumps({"profile": str(pdf._profile()), "seen": seen}), flush=True)
    if sys.argv[2] == "attendre":
        time.sleep(600)
""")


def run_script(tmp_path: Path, then: str) -> subprocess.Popen[str]:
    document(tmp_path / "un.docx", "Attestation de dépôt n° AAP-2018-0001")
    document(tmp_path / "deux.docx", "Attestation de dépôt n° AAP-2018-0002")
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path), then], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_second_conversion_reuses_the_running_libreoffice_and_none_is_left_after_exit(tmp_path):
    require_uno()
    proc = run_script(tmp_path, "sortir")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0
    report = json.loads(out)
    first, second = report["seen"]
    assert first["pdf"] == second["pdf"] == 1
    assert first["starts"] == second["starts"] == 1 and first["pgid"] == second["pgid"]  # started once
    assert "AAP-2018-0002" in pdf_text(tmp_path / "pdf" / "deux.pdf")
    assert gone_within(report["profile"], 10) == []  # no LibreOffice on this profile outlives the process
    assert not Path(report["profile"]).exists()


def test_a_killed_process_leaves_no_libreoffice_behind(tmp_path):
    require_uno()
    proc = run_script(tmp_path, "attendre")
    report = json.loads(proc.stdout.readline())
    assert living(report["profile"])  # LibreOffice runs while the process waits
    proc.send_signal(signal.SIGKILL)  # no atexit: the helper notices its parent is gone
    proc.wait(timeout=30)
    assert gone_within(report["profile"], 15) == []
    assert not Path(report["profile"]).exists()  # removed by the helper, the process's atexit never ran


def test_a_libreoffice_that_died_is_started_again_by_the_next_conversion(tmp_path):
    require_uno()
    convert_to_pdf([document(tmp_path / "un.docx", "premier")], tmp_path / "pdf")
    office = libreoffice._SERVERS[os.getpid()]
    starts, pgid = office.starts, office.pgid
    os.killpg(pgid, signal.SIGKILL)
    time.sleep(0.5)

    done = convert_to_pdf([document(tmp_path / "deux.docx", "second après la mort")], tmp_path / "pdf")

    assert "second après la mort" in pdf_text(done[(tmp_path / "deux.docx").resolve()])
    assert office.starts == starts + 1 and office.pgid != pgid


def test_a_conversion_that_hangs_is_timed_out_and_libreoffice_restarted(tmp_path, caplog):
    require_uno()
    convert_to_pdf([document(tmp_path / "un.docx", "premier")], tmp_path / "pdf")
    office = libreoffice._SERVERS[os.getpid()]
    starts, pgid = office.starts, office.pgid
    os.killpg(pgid, signal.SIGSTOP)  # LibreOffice stops answering
    bloque = document(tmp_path / "bloque.docx", "jamais converti")
    caplog.set_level(logging.ERROR)

    started = time.monotonic()
    assert convert_to_pdf([bloque], tmp_path / "pdf", timeout=3) == {}
    assert time.monotonic() - started < 30
    assert "n'a pas converti un document en 3 s" in caplog.text
    assert not (tmp_path / "pdf" / "bloque.pdf").exists()
    assert gone_within(f"-env:UserInstallation={pdf._profile().as_uri()}", 5) == []  # the stopped one was killed

    done = convert_to_pdf([document(tmp_path / "apres.docx", "après le blocage")], tmp_path / "pdf")
    assert "après le blocage" in pdf_text(done[(tmp_path / "apres.docx").resolve()])
    assert office.starts == starts + 1


def test_without_uno_each_batch_falls_back_to_convert_to_with_a_french_line(tmp_path, monkeypatch, caplog):
    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) absent : conversion PDF non testable ici")
    monkeypatch.setattr(libreoffice, "UNO_PYTHON", sys.executable)  # the venv's Python: no uno
    monkeypatch.setattr(libreoffice, "_SERVERS", {})
    monkeypatch.setattr(pdf, "_UNO_ABSENT", set())
    caplog.set_level(logging.WARNING)

    done = convert_to_pdf([document(tmp_path / "un.docx", "sans uno")], tmp_path / "pdf")

    assert "sans uno" in pdf_text(done[(tmp_path / "un.docx").resolve()])
    assert "python3-uno absent" in caplog.text
    assert os.getpid() in pdf._UNO_ABSENT and not any(o.running() for o in libreoffice._SERVERS.values())
