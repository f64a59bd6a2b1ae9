from modules.rentals.tests.conftest import wheelchair  # noqa: F401
from modules.convenience.tests.conftest import shelf  # noqa: F401
