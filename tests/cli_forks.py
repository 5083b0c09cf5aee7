"""Many ``aap`` commands, each in a process of its own, without paying the interpreter's start-up and the command
line's imports for every one (0.3 to 0.9 s of CPU each, most of a test that types forty commands).

A zygote process imports what ``python -m flows.cli`` imports (and the database layer, which most commands load),
then forks one child per command. The child takes the command's working folder, environment (replacing the
zygote's), stdin, and its own stdout and stderr, then runs ``flows.cli.main()`` with the command's arguments, as
the process started by ``python -m flows.cli`` would: the settings, the database engine and the runtime are read
and made by the command, after the fork, from its environment; importing them configures nothing. What a command
loads lazily is loaded already: the tests of what a command loads at start-up (``test_start_up``) start real
processes, as do those that kill a command or run a Prefect server.

    with Zygote() as aap:
        result = aap.run(["dossiers", "--appel", "2018"], cwd=root, env=env)  # a CompletedProcess
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRELOAD = ("flows.cli", "adapters.database", "models.base", "config.settings")


class Zygote:
    """The zygote: ``run`` sends it one command and returns what its child printed and how it ended."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Zygote:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.cli_forks"], cwd=ROOT, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=1)
        ready = self.proc.stdout.readline()
        if ready.strip() != "pret":
            raise RuntimeError(f"le processus des commandes n'a pas démarré : {ready!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.stdin.close()
        self.proc.wait(30)

    def run(self, args: list[str], *, cwd: Path, env: dict[str, str], input: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        assert self.proc is not None
        self.proc.stdin.write(json.dumps({"args": list(args), "cwd": str(cwd), "env": env, "stdin": input or "",
                                          "timeout": timeout}) + "\n")
        answer = json.loads(self.proc.stdout.readline())
        return subprocess.CompletedProcess([sys.executable, "-m", "flows.cli", *args], answer["rc"],
                                           answer["stdout"], answer["stderr"])


def _serve() -> None:
    """The zygote's loop: one JSON line in per command, one out when its child has ended."""
    import importlib
    import signal

    for module in PRELOAD:
        importlib.import_module(module)
    requests = os.fdopen(os.dup(0), encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)  # a child reads only its own stdin
    answers.write("pret\n")
    for line in requests:
        job: dict[str, Any] = json.loads(line)
        with tempfile.TemporaryDirectory() as tmp:
            files = {name: Path(tmp) / name for name in ("stdin", "stdout", "stderr")}
            files["stdin"].write_text(job["stdin"], encoding="utf-8")
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(job, files)
            signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
            signal.alarm(int(job["timeout"]))
            _, status = os.waitpid(pid, 0)
            signal.alarm(0)
            answers.write(json.dumps({"rc": os.waitstatus_to_exitcode(status),
                                      "stdout": files["stdout"].read_text(encoding="utf-8", errors="replace"),
                                      "stderr": files["stderr"].read_text(encoding="utf-8", errors="replace")}) + "\n")


def _child(job: dict[str, Any], files: dict[str, Path]) -> None:
    """In the forked child: become the command's process, run it, exit with its code (never return)."""
    code = 1
    try:
        written = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        for fd, name, mode in ((0, "stdin", os.O_RDONLY), (1, "stdout", written), (2, "stderr", written)):
            f = os.open(files[name], mode, 0o600)
            os.dup2(f, fd)
            os.close(f)
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        from flows.runtime import set_prefect_defaults

        set_prefect_defaults()  # what importing flows.cli does in a process of its own, from this environment
        sys.argv = [str(Path(sys.executable).parent / "aap"), *job["args"]]
        from flows.cli import main

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - as a process dying on an uncaught exception: its traceback, code 1
        import traceback

        traceback.print_exc()
    finally:
        try:  # what the interpreter does at exit, but the zygote's own atexit handlers
            import logging
            import threading

            threading._shutdown()  # type: ignore[attr-defined] - waits for the command's non-daemon threads
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    _serve()
