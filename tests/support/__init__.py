"""Plain helpers shared by the test suite (fixtures stay in the ``conftest.py`` files).

One home per concept, so a test never writes set-up that another test already has:

* :mod:`support.paths`: the repository, its bundled examples and the test fixtures;
* :mod:`support.cli`: ``qharness`` in-process (the default) or as a real subprocess (the smoke
  tests and whatever needs process isolation: signals, stdin pipes, a terminal, cwd);
* :mod:`support.served`: ``qharness mock serve`` as a process, for tests about that process;
* :mod:`support.shell`: the README's and CI recipes' shell lines, run by bash;
* :mod:`support.activations`: activation TOML for rule tests; the example aimed at another URL;
* :mod:`support.profiles`: AEP profile updates and JSON Lines files of them;
* :mod:`support.destination`: the test token, and a workflow on a live mock to deliver to;
* :mod:`support.delivery`: ``deliver`` with millisecond backoffs, its outbox, the report's keys;
* :mod:`support.runs`: what a mock's run history must show (each event once, at least once);
* :mod:`support.mock`: the mock app's test config and a trigger client for Flask's test client;
* :mod:`support.renderers`: renderers broken on purpose.

``tests/`` is on ``sys.path`` while pytest runs (its ``conftest.py`` puts it there, and registers
this package for assertion rewriting), so a test imports ``from support.cli import qharness``.
"""
