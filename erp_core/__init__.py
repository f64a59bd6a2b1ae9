"""Houqin erp_core: the generic admin shell that loads business modules.

erp_core never imports a business module by name; modules are discovered
(see registry.py) and contribute through the hooks in hookspecs.py.
"""
__version__ = "0.1.0"
