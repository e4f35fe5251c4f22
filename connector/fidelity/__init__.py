"""Fidelity: is the mock what the user's Qualtrics really is? ``qharness probe`` finds out.

``probes`` is the fixed list of requests (two groups: those that cannot start a run, and those
that may); ``run`` sends each to the real trigger and to the mock; ``compare`` reduces answers to
what a sender acts on and names the differences; ``record`` writes the fidelity record the mock
then follows (``mock_qualtrics.fidelity``) and the JSON report. This package never imports
``mock_qualtrics``: the CLI starts the mock and hands over its URL.
"""

from __future__ import annotations

from .compare import Answer, differences
from .probes import Limits, Probe, plan
from .record import record_document, report_document
from .run import Outcome, Target, run_probes

__all__ = [
    "Answer",
    "Limits",
    "Outcome",
    "Probe",
    "Target",
    "differences",
    "plan",
    "record_document",
    "report_document",
    "run_probes",
]
