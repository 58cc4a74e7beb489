"""The configuration audit: each load of vigil.yaml by a process, with what changed.

A process records a load when the file's hash differs from the last one that process
recorded, so a flow reading the file every minute adds a row only when it changed.
"""

import getpass
import hashlib
import json
import socket
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models.access import ConfigLoad
from models.config.root import VigilConfig
from tasks.core.access.config_diff import SECTIONS, Fingerprint, describe_changes, fingerprint


def note_config_load(
    engine: Engine, path: Path, config: VigilConfig, *, process: str, now: datetime
) -> ConfigLoad | None:
    """Record that ``process`` loaded ``path`` (as ``config``); None when unchanged for it."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
    with Session(engine) as session:
        mine = _latest(session, ConfigLoad.process == process)
        if mine is not None and mine.sha256 == digest:
            return None
        before = _latest(session, col(ConfigLoad.id).is_not(None))
        prints = fingerprint({section: getattr(config, section) for section in SECTIONS})
        row = ConfigLoad(
            at=now,
            path=str(path.resolve())[:1000],
            sha256=digest,
            process=process[:64],
            started_by=f"{getpass.getuser()}@{socket.gethostname()}"[:255],
            diff=describe_changes(_prints(before), prints),
            fingerprint=json.dumps(prints, sort_keys=True),
        )
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def config_loads(engine: Engine, limit: int = 200) -> list[ConfigLoad]:
    """The newest loads first."""
    with Session(engine) as session:
        query = select(ConfigLoad).order_by(col(ConfigLoad.id).desc()).limit(limit)
        return list(session.exec(query))


def _latest(session: Session, condition) -> ConfigLoad | None:  # type: ignore[no-untyped-def]
    query = select(ConfigLoad).where(condition).order_by(col(ConfigLoad.id).desc()).limit(1)
    return session.exec(query).first()


def _prints(row: ConfigLoad | None) -> Fingerprint | None:
    return None if row is None else json.loads(row.fingerprint)
