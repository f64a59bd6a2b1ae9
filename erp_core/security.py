"""FAB's security manager, minus what does not belong on a hospital intranet."""
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager


class SecurityManager(FabSecurityManager):
    # FAB's user statistics chart loads Google Charts from the internet.
    userstatschartview = None
