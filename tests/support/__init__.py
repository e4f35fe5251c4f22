"""Plain helpers shared by the test suite (fixtures stay in the ``conftest.py`` files).

One home per concept, so a test never writes set-up that another test already has:

* :mod:`support.paths`: the repository, its bundled examples and the test fixtures;
* :mod:`support.cli`: ``qharness`` in-process (the default) or as a real subprocess (the smoke
  tests and whatever needs process isolation: signals, stdin pipes, a server's lifetime);
* :mod:`support.activations`: an example activation aimed at another trigger URL;
* :mod:`support.profiles`: AEP profile updates and JSON Lines files of them.

``tests/`` is on ``sys.path`` while pytest runs (its ``conftest.py`` puts it there), so a test
imports these as ``from support.cli import qharness``.
"""
