"""A folder of wheels made from the packages installed in this environment, so that pip can
install deckgen into a new virtual environment without an index (tests run offline).

pip cannot turn an installed package back into a wheel, but a wheel is only a zip of the
files a package installed into site-packages plus its .dist-info: each one is written
again from the installed files, listed in its RECORD, with a new RECORD.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import re
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

_NOT_PACKAGED = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def requirement_closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions that satisfy ``requirements`` and what they need to run
    (no extras); requirements whose markers exclude this Python are left out."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [Requirement(line) for line in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        dist = metadata.distribution(requirement.name)
        seen[name] = dist
        for line in dist.requires or []:
            todo.append(Requirement(line))
    return sorted(seen.values(), key=lambda d: canonicalize_name(d.metadata["Name"]))


def repack(dist: metadata.Distribution, folder: Path) -> Path:
    """The installed distribution as a wheel in ``folder``."""
    files = dist.files or []
    info = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    tags = [
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    ]
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
    wheel = folder / f"{name}-{dist.version}-{tags[0]}.whl"
    root = Path(str(dist.locate_file("")))
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            parts = file.parts
            if parts[0] == ".." or "__pycache__" in parts:
                continue  # scripts (pip writes them again) and bytecode
            if parts[0] == info and parts[-1] in _NOT_PACKAGED:
                continue
            path = root / file
            if not path.is_file():
                continue
            data = path.read_bytes()
            archive.writestr(file.as_posix(), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{file.as_posix()},sha256={digest.decode()},{len(data)}")
        record.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def make_wheelhouse(folder: Path, requirements: list[str]) -> list[Path]:
    """Wheels of the installed distributions that ``requirements`` need."""
    folder.mkdir(parents=True, exist_ok=True)
    return [repack(dist, folder) for dist in requirement_closure(requirements)]
