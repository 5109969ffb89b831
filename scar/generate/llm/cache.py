"""A persistent response cache: SQLite in WAL mode, keyed by the request's hash.

Only the key hash and the reply (text + token counts) are stored: never the API key, headers or URL.
Several build processes (shards) may share one file; WAL plus a busy timeout lets them.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from scar.core.errors import ScarError
from scar.generate.llm.request import Reply


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=60.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, step TEXT, reply TEXT NOT NULL, created REAL)"
            )
        except sqlite3.Error as exc:
            raise ScarError(f"{path}: cannot open the LLM response cache ({exc})") from None

    def get(self, key: str) -> Reply | None:
        row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return Reply.from_json(row[0]) if row else None

    def put(self, key: str, step: str, reply: Reply) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO replies (key, step, reply, created) VALUES (?, ?, ?, ?)",
            (key, step, reply.to_json(), time.time()),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class NoCache:
    """--no-cache: every request goes to the server (still deterministic with temperature 0 and a seed)."""

    def get(self, key: str) -> Reply | None:
        return None

    def put(self, key: str, step: str, reply: Reply) -> None:
        pass

    def close(self) -> None:
        pass
