"""Sender certification: grade a sender that is not ours (``qharness certify-sender -- COMMAND``).

The harness feeds the sender generated AEP profiles (``feed``), plays Qualtrics with a faithful
embedded mock that records every trigger request (``mock``, ``recorder``) and answers some of
them badly (``scenario``), runs the sender once (``process``), and grades what arrived against
its own renderer's payloads (``grading``). ``certify_sender`` (``runner``) does it all and returns
a :class:`SenderCertification`, which ``connector.certify.reports`` writes like any certification.
"""

from __future__ import annotations

from .runner import (
    DEFAULT_PROFILES,
    DEFAULT_TIMEOUT,
    ENV_NAMES,
    SenderCertification,
    certify_sender,
)
from .scenario import DEFAULT_SCENARIO, Scenario, load_scenario

__all__ = [
    "DEFAULT_PROFILES",
    "DEFAULT_SCENARIO",
    "DEFAULT_TIMEOUT",
    "ENV_NAMES",
    "Scenario",
    "SenderCertification",
    "certify_sender",
    "load_scenario",
]
