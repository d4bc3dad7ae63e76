"""A stable digest of a contract's terms, so `POST /cases` can tell a retry of the same
registration (200) from a different contract under the same case id (409)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from models.terms import ContractTerms


def terms_fingerprint(terms: ContractTerms) -> str:
    canonical = json.dumps(asdict(terms), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
