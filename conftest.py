"""The pytest plugins of every test suite in this repository.

pytest reads `pytest_plugins` only in this top-level file. Their fixtures
are what several suites share; a suite's own conftest.py builds on them
(and a fixture it defines under the same name wins):

- polyshop_common.testing: contracts, client, conn, auth, wait_until;
- polyshop_dev.testing: kafka_bootstrap, the broker of the test session.
"""

pytest_plugins = ["polyshop_common.testing", "polyshop_dev.testing"]
