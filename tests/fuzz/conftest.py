"""The integration fixtures (``env``: a freshly provisioned stack on the emulator, real handlers)."""

from tests.integration.conftest import *  # noqa: F403
