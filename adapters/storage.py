"""Files received and produced, stored under names we generate, readable by their owner only."""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

DIR_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_UMASK = 0o077


def keep_files_private() -> None:
    """From now on, everything this process (and its children) creates is its owner's only, from creation:
    the SQLite database and its -wal/-shm files, var/ and the storage, LibreOffice's output (0600 / 0700)."""
    os.umask(PRIVATE_UMASK)


@dataclass(frozen=True)
class Stored:
    chemin: str  # relative to the storage root
    sha256: str
    taille: int


class Storage:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def path(self, relative: str) -> Path:
        return self.root / relative

    def ensure_dir(self, relative: str) -> Path:
        current = self.root
        current.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for part in Path(relative).parts:
            current = current / part
            current.mkdir(mode=DIR_MODE, exist_ok=True)
        return current

    def put_blob(self, kind: str, data: bytes, suffix: str = "") -> Stored:
        """Content-addressed: the same bytes always land at the same generated name (re-runs overwrite)."""
        digest = hashlib.sha256(data).hexdigest()
        safe_suffix = suffix.lower() if suffix[1:].isalnum() and len(suffix) <= 6 else ""
        relative = f"{kind}/{digest[:2]}/{digest}{safe_suffix}"
        target = self.root / relative
        if not target.exists() or target.stat().st_size != len(data):
            self.ensure_dir(f"{kind}/{digest[:2]}")
            write_private(target, data)
        return Stored(relative, digest, len(data))

    def put_file(self, kind: str, source: Path, suffix: str = "") -> Stored:
        """``put_blob`` of a file's bytes, copied in chunks (a huge message never sits in memory)."""
        folder = self.ensure_dir(kind)
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(prefix=".entrant.", suffix=".tmp", dir=folder)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as out, Path(source).open("rb") as src:
                while chunk := src.read(1024 * 1024):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            hexdigest = digest.hexdigest()
            safe_suffix = suffix.lower() if suffix[1:].isalnum() and len(suffix) <= 6 else ""
            relative = f"{kind}/{hexdigest[:2]}/{hexdigest}{safe_suffix}"
            self.ensure_dir(f"{kind}/{hexdigest[:2]}")
            os.replace(tmp_name, self.root / relative)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return Stored(relative, hexdigest, size)


def write_private(target: Path, data: bytes) -> None:
    """Atomic write with owner-only permissions."""
    with private_output(target) as stream:
        stream.write(data)


@contextmanager
def private_output(target: Path) -> Iterator[BinaryIO]:
    """A file written atomically with owner-only permissions: a failure leaves no partial file."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as stream:
            yield stream
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
